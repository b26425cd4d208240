// Parser of spec.ringside.multiCluster: the sidecar's own cluster, the synchronizers
// (ringside-sync) it subscribes to for other clusters' instances, and the cluster strategies.
//
//   spec:
//     ringside:
//       multiCluster:
//         cluster: east                        # this sidecar's cluster (required with synchronizers)
//         synchronizers: ["198.51.100.10:50070", "sync.east.example:50070"]   # host:port, tried in turn
//         token: s3cret                        # sent to the synchronizer; or tokenFile: /path
//         strategy: local-first                # default strategy (local-first when omitted)
//         apps:
//           b: {strategy: broadcast}
//
// Without the section a sidecar is single-cluster: every instance is local and the strategy
// filter keeps all of them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/snapshot/cluster_strategy.h"
#include "yaml-cpp/yaml.h"

namespace ringside::config {

struct MultiCluster {
  std::string cluster;                     // own cluster name ("" = section absent: single cluster)
  std::vector<std::string> synchronizers;  // host:port of this cluster's ringside-sync instances
  std::string token;                       // bearer token for the synchronizer ("" = none);
                                           // tokenFile is read at parse time into this field
  snapshot::ClusterStrategies strategies;  // default and per-app strategy

  bool enabled() const { return !synchronizers.empty(); }
};

// Parses the node at `path` (absent/null = single cluster) into *out. Errors name the YAML path,
// e.g. `spec.ringside.multiCluster.apps.b.strategy: "nearest" is not a strategy (...)`.
absl::Status parse_multi_cluster(const YAML::Node& node, std::string_view path, MultiCluster* out);

// Parses a strategy name ("local-first", "localFirst", ...) at `path`.
absl::StatusOr<snapshot::ClusterStrategy> parse_cluster_strategy(std::string_view text, std::string_view path);

}  // namespace ringside::config
