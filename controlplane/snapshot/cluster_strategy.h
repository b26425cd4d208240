// ClusterStrategy: which clusters' instances of a target app id a call may go to
// (spec.ringside.multiCluster, docs/multicluster.md). Local instances are those whose cluster is
// the sidecar's own (or untagged); external ones come from the synchronizer (ringside-sync).
// Plain data; parsed in controlplane/config/multi_cluster_config.cc, applied by the shards in
// upstream/peer_choice.cc after the table lookup and before the load balancer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace ringside::snapshot {

enum class ClusterStrategy : uint8_t {
  kLocalFirst,     // local-first: local instances; external only when no local one is usable
  kExternalFirst,  // external-first: the reverse
  kLocalOnly,      // local-only: never leaves the cluster
  kExternalOnly,   // external-only: never stays in the cluster
  kBroadcast,      // broadcast: every usable instance of every cluster, first success answers
};

// The configuration spelling ("local-first", ...).
inline std::string_view to_string(ClusterStrategy s) {
  switch (s) {
    case ClusterStrategy::kLocalFirst: return "local-first";
    case ClusterStrategy::kExternalFirst: return "external-first";
    case ClusterStrategy::kLocalOnly: return "local-only";
    case ClusterStrategy::kExternalOnly: return "external-only";
    case ClusterStrategy::kBroadcast: return "broadcast";
  }
  return "local-first";
}

// The strategies of every app id: a global default and per-app overrides.
struct ClusterStrategies {
  ClusterStrategy defaults = ClusterStrategy::kLocalFirst;          // apps not listed in `apps`
  absl::flat_hash_map<std::string, ClusterStrategy> apps;           // app id -> its strategy

  // The strategy of app_id. No allocation (heterogeneous lookup).
  ClusterStrategy for_app(std::string_view app_id) const {
    // Debian's Abseil has its own string_view type; the hash map looks it up without a copy.
    auto it = apps.find(absl::string_view(app_id.data(), app_id.size()));
    return it == apps.end() ? defaults : it->second;
  }
  friend bool operator==(const ClusterStrategies&, const ClusterStrategies&) = default;
};

// What a table needs to know about clusters: which one is ours and the strategies. Built into
// every InstanceTable by the control plane (spec.ringside.multiCluster).
struct ClusterSettings {
  std::string local_cluster;      // own cluster name ("" = single cluster: every instance is local)
  ClusterStrategies strategies;   // default and per-app strategy
  bool multi_cluster = false;     // our cluster is known (spec.ringside.multiCluster.cluster set)

  // Whether an instance is in our own cluster: untagged, or tagged with our name.
  bool is_local(std::string_view cluster) const { return cluster.empty() || cluster == local_cluster; }
  friend bool operator==(const ClusterSettings&, const ClusterSettings&) = default;
};

}  // namespace ringside::snapshot
