// DnsOptions: how the control plane's DNS client (AresHostResolver) asks and caches. Shared by
// every resolver that turns app ids into DNS names (kubernetes, nameformat) and by the host-name
// binding of the control plane itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace ringside::dns {

struct DnsOptions {
  std::vector<std::string> nameservers;               // "ip", "ip:port", "[v6]:port"; empty = /etc/resolv.conf
  std::chrono::milliseconds timeout{500};             // first try's timeout per server (c-ares doubles it per round)
  int tries = 2;                                      // rounds over the server list before a lookup fails
  std::chrono::seconds min_ttl{1};                    // floor for record TTLs (TTL 0 would re-query in a loop)
  std::chrono::seconds max_ttl{300};                  // cap for record TTLs (bounds how long a change can go unseen)
  std::chrono::milliseconds negative_ttl{2000};       // NXDOMAIN / no records cached this long
  std::chrono::milliseconds hosts_file_ttl{5000};     // /etc/hosts answers re-read this often
  std::chrono::milliseconds retry_interval{1000};     // a failed refresh is retried this often
  std::chrono::milliseconds max_stale{std::chrono::minutes(5)};  // failures keep the last answer this long past its TTL
  bool use_hosts_file = true;                         // consult /etc/hosts before DNS ("fb" order)
  size_t max_names = 4096;                            // names cached; the least recently asked is evicted beyond
};

// One nameserver entry: "127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353". Port 53 when absent.
struct NameserverAddress {
  int family = 0;          // AF_INET or AF_INET6
  unsigned char ip[16]{};  // network order (IPv4 in the first 4 bytes)
  int port = 53;           // UDP and TCP port
};
absl::StatusOr<NameserverAddress> parse_nameserver(std::string_view text);

// Reads the DNS keys of a resolver's `configuration` map at `base` (e.g.
// "spec.nameResolution.configuration"): nameservers (list), dnsTimeout, dnsTries, maxStale,
// negativeTtl. Absent keys keep the defaults; errors name the key ("<base>.nameservers[1]: ...").
absl::StatusOr<DnsOptions> parse_dns_options(const YAML::Node& cfg, std::string_view base);

}  // namespace ringside::dns
