// Parser of spec.ringside.loadBalancing (the load-balancing policy per app id and the passive
// outlier detection), into the plain snapshot::LoadBalancing the control plane builds tables from:
//
//   spec:
//     ringside:
//       loadBalancing:
//         policy: roundRobin            # roundRobin (default) | random | leastRequest | ringHash | maglev
//         hashHeader: x-user            # default header for ringHash/maglev
//         outlierDetection:
//           consecutiveFailures: 3      # 0 = never eject
//           baseEjectionTime: 1s
//           maxEjectionTime: 30s
//         apps:
//           b: {policy: ringHash, hashHeader: x-user}
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "controlplane/snapshot/load_balancing.h"
#include "yaml-cpp/yaml.h"

namespace ringside::config {

// Parses the node at `path` (absent/null = defaults) into *out. Errors name the YAML path, e.g.
// `spec.ringside.loadBalancing.apps.b.policy: "fastest" is not a policy (...)`.
absl::Status parse_load_balancing(const YAML::Node& node, std::string_view path, snapshot::LoadBalancing* out);

// Same from YAML text (the fuzz target and tests): the text is the loadBalancing map itself.
absl::Status parse_load_balancing_yaml(std::string_view yaml_text, snapshot::LoadBalancing* out);

}  // namespace ringside::config
