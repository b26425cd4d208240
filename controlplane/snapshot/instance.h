// One reachable peer sidecar, as published to the shards in an InstanceTable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "controlplane/snapshot/socket_address.h"

namespace ringside::snapshot {

struct Instance {
  uint64_t id = 0;            // stable across tables: hash of (app id, namespace, address)
  std::string app_id;         // Dapr app id the peer serves
  std::string app_namespace;  // its namespace ("" when the resolver does not know namespaces)
  std::string address_text;   // "host:port" as the resolver gave it (for logs, metadata, :authority)
  std::string cluster;        // cluster tag for cluster strategies; "" = local cluster
  std::string host_name;      // the DNS name in address_text when it is not an IP literal, else ""
  SocketAddress addr;         // where to connect; not dialable while host_name awaits DNS
  uint32_t weight = 1;        // load-balancing weight
  bool healthy = true;        // false = known bad (kept so per-shard state keyed by id survives)

  friend bool operator==(const Instance&, const Instance&) = default;
};

// Stable 64-bit id (FNV-1a over the three fields with separators); the same in every process,
// so per-shard state keyed by id survives table swaps and restarts.
uint64_t instance_id(std::string_view app_id, std::string_view app_namespace, std::string_view address);

// Whether the instance still needs a DNS lookup before shards can dial it.
inline bool needs_dns(const Instance& i) { return !i.addr.dialable() && !i.host_name.empty(); }

// Builds an Instance with its id. `address` is "ipv4:port", "[ipv6]:port", "localhost:port" or
// "host.name:port"; a host name leaves addr unset and host_name filled (the control plane
// resolves it, see with_resolved_address). Error when the text is not host:port.
absl::StatusOr<Instance> make_instance(std::string_view app_id, std::string_view app_namespace,
                                       std::string_view address, std::string_view cluster = {},
                                       uint32_t weight = 1);

// A copy of `named` (an instance with a host name) bound to one resolved address. Its id mixes
// the address in, so each resolved address is its own stable instance.
Instance with_resolved_address(const Instance& named, const SocketAddress& addr);

}  // namespace ringside::snapshot
