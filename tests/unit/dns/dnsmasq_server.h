// A real DNS server for tests: Debian's dnsmasq on 127.0.0.1 with a free UDP+TCP port, serving
// only the records of a hosts file the test writes (--no-resolv --no-hosts --addn-hosts), with a
// short TTL, every query logged to a file. Names under the served domains that are not in the
// file get NXDOMAIN. Killed by pid on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::testing {

class DnsmasqServer {
 public:
  // `hosts` is the hosts-file text ("127.0.0.1 a.example\n"); `ttl_seconds` is what every answer
  // carries; `local_domains` get NXDOMAIN for unknown names (others get REFUSED).
  static absl::StatusOr<std::unique_ptr<DnsmasqServer>> Start(std::string hosts, int ttl_seconds,
                                                              std::vector<std::string> local_domains = {"cluster.local",
                                                                                                        "test"});
  ~DnsmasqServer();  // Kill()s and removes the directory
  DnsmasqServer(const DnsmasqServer&) = delete;
  DnsmasqServer& operator=(const DnsmasqServer&) = delete;

  uint16_t port() const { return port_; }
  std::string nameserver() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

  // Rewrites the hosts file and makes dnsmasq re-read it (SIGHUP also clears its cache), then
  // waits until the log says it did.
  absl::Status ReplaceHosts(std::string hosts);
  // Stops the server (SIGKILL, reaped): its port refuses from now on.
  void Kill();
  // Starts it again on the same port with the current hosts file.
  absl::Status Restart();

  // Queries of `type` ("A", "AAAA") for `name` in the log so far.
  int CountQueries(std::string_view type, std::string_view name) const;
  std::string Log() const;

 private:
  DnsmasqServer() = default;
  absl::Status Spawn();

  std::string dir_;                          // private temp directory (hosts file, log)
  std::string hosts_path_;                   // --addn-hosts file
  std::string log_path_;                     // --log-facility file
  std::vector<std::string> local_domains_;   // --local=/d/ entries
  int ttl_ = 1;                              // --local-ttl
  uint16_t port_ = 0;                        // UDP and TCP port on 127.0.0.1
  pid_t pid_ = -1;                           // running dnsmasq, -1 when stopped
  int hups_ = 0;                             // SIGHUPs sent (to wait for each re-read)
};

// Polls `done` every 20 ms until it is true or `timeout` passes; returns its last value.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

}  // namespace ringside::testing
