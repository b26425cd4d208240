// Options of the etcd resolver, read from spec.nameResolution.configuration (YAML text kept by
// config::NameResolution::configuration_yaml). Errors name the path, e.g.
// `spec.nameResolution.configuration.endpoints[1]: "x" is not host:port`.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::resolvers::etcd {

struct EtcdOptions {
  std::vector<std::string> endpoints;                // host:port of etcd members (required); tried in turn
  std::string prefix = "/ringside/instances";        // key prefix, no trailing '/'
  std::chrono::seconds lease_ttl{10};                // TTL of our registration's lease
  std::chrono::milliseconds keep_alive_interval{0};  // keep-alive period; 0 = lease_ttl / 3
  std::chrono::milliseconds dial_timeout{5000};      // deadline of each unary call (and of start-up)
  std::chrono::milliseconds max_backoff{2000};       // cap of the reconnect back-off
  bool self_register = true;                         // register this sidecar (false = discover only)
};

// The keep-alive period in effect (keep_alive_interval, or lease_ttl / 3).
std::chrono::milliseconds effective_keep_alive_interval(const EtcdOptions& o);

// Parses `configuration_yaml`; `base` is the path of that map in the Configuration.
absl::StatusOr<EtcdOptions> parse_etcd_options(std::string_view configuration_yaml,
                                               std::string_view base = "spec.nameResolution.configuration");

}  // namespace ringside::resolvers::etcd
