// DNS-SD records the way daprd's mDNS resolver (components-contrib nameresolution/mdns, via
// grandcat/zeroconf RegisterProxy) puts them on the wire, and the reading side of a browse:
//   <service>      = "<appId>.local."           (one label, not "_x._tcp": daprd's choice)
//   <instance>     = "<hostname>:<pid>.<service>"
//   PTR  <service> -> <instance>                 TTL 3200
//   SRV  <instance> 0 0 <internal gRPC port> <hostname>.local.   TTL 3200
//   TXT  <instance> "<appId>"                    TTL 3200
//   A/AAAA <hostname>.local. -> the announced address            TTL 120
//   PTR  _services._dns-sd._udp.local. -> <service>
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/resolvers/mdns/dns_message.h"

namespace ringside::mdns {

inline constexpr uint32_t kServiceTtlSeconds = 3200;  // PTR/SRV/TXT, as zeroconf
inline constexpr uint32_t kHostTtlSeconds = 120;      // A/AAAA (RFC 6762 §10)

using Ipv4Bytes = std::array<uint8_t, 4>;    // network order
using Ipv6Bytes = std::array<uint8_t, 16>;   // network order

// What one sidecar announces.
struct ServiceAnnouncement {
  DnsName service;                 // "<appId>.local."
  DnsName instance;                // "<hostname>:<pid>.<appId>.local."
  DnsName host;                    // "<hostname>.local."
  uint16_t port = 0;               // internal gRPC port
  std::vector<Ipv4Bytes> ipv4;     // A records
  std::vector<Ipv6Bytes> ipv6;     // AAAA records
  std::vector<std::string> txt;    // TXT strings: { appId }
};

// "<name>.local." as a one-label service type, the way daprd spells an app id's service.
DnsName service_name_for(std::string_view app_id);
// "_services._dns-sd._udp.local." (RFC 6763 §9 service type enumeration).
DnsName service_enumeration_name();

// Unsolicited announcement (RFC 6762 §8.3) with `ttl` on the service records; ttl 0 is the
// goodbye (§10.1). SRV, TXT, A and AAAA carry the cache-flush bit, as zeroconf sends them.
DnsMessage announcement_message(const ServiceAnnouncement& a, uint32_t ttl);

// The answer to `query` for our records, or nullopt when nothing in it concerns us (other
// names, probes, responses, or every answer already known to the querier).
std::optional<DnsMessage> answer_for(const ServiceAnnouncement& a, const DnsMessage& query);

// The browse query for `service` (one PTR question, multicast response wanted).
DnsMessage browse_query(const DnsName& service);

// One instance of a browsed service, assembled from the records seen so far.
struct BrowsedInstance {
  DnsName instance;                // full instance name
  DnsName host;                    // SRV target (empty until an SRV arrived)
  uint16_t port = 0;               // SRV port
  bool has_srv = false;            // an SRV record was seen
  std::vector<std::string> txt;    // TXT strings (empty until a TXT arrived)
  std::vector<Ipv4Bytes> ipv4;     // addresses of `host`, in arrival order
  std::vector<Ipv6Bytes> ipv6;     // likewise
  bool goodbye = false;            // its PTR or SRV came with TTL 0 (instance left)
};

// Collects the records of one service across the responses that arrive during a browse
// (avahi and zeroconf put PTR, SRV, TXT and addresses in one packet, but nothing requires it).
class BrowseCollector {
 public:
  explicit BrowseCollector(DnsName service) : service_(std::move(service)) {}

  // Takes every record of `response` that belongs to the service or to a host it names.
  void add(const DnsMessage& response);
  // Instances with an SRV record, their addresses filled in.
  std::vector<BrowsedInstance> instances() const;

  const DnsName& service() const { return service_; }

 private:
  BrowsedInstance* instance_for(const DnsName& name);

  DnsName service_;                         // "<appId>.local."
  std::vector<BrowsedInstance> instances_;  // by first appearance (a handful at most)
};

}  // namespace ringside::mdns
