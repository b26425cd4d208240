// One reachable peer sidecar, as published to the shards in an InstanceTable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringside::snapshot {

struct Instance {
  uint64_t id = 0;            // stable across tables: hash of (app id, namespace, address)
  std::string app_id;         // Dapr app id the peer serves
  std::string app_namespace;  // its namespace ("" when the resolver does not know namespaces)
  std::string address_text;   // "host:port" as the resolver gave it (for logs and metadata)
  std::string cluster;        // cluster tag for cluster strategies; "" = local cluster
  uint32_t ipv4_be = 0;       // parsed IPv4 address for connect(), network byte order
  uint16_t port_be = 0;       // parsed port, network byte order
  uint32_t weight = 1;        // load-balancing weight
  bool healthy = true;        // false = known bad (kept so per-shard state keyed by id survives)

  friend bool operator==(const Instance&, const Instance&) = default;
};

// Stable 64-bit id (FNV-1a over the three fields with separators); the same in every process,
// so per-shard state keyed by id survives table swaps and restarts.
uint64_t instance_id(std::string_view app_id, std::string_view app_namespace, std::string_view address);

// Parses "a.b.c.d:port" or "localhost:port" (-> 127.0.0.1). Port must be 1..65535.
// Returns false for anything else (IPv6 and host names are not dialable by the data plane).
bool parse_ipv4_host_port(std::string_view address, uint32_t* ipv4_be, uint16_t* port_be);

// Builds an Instance with parsed address and id; error when the address is not dialable.
absl::StatusOr<Instance> make_instance(std::string_view app_id, std::string_view app_namespace,
                                       std::string_view address, std::string_view cluster = {},
                                       uint32_t weight = 1);

}  // namespace ringside::snapshot
