// Parser of spec.accessControl (spec §10), the callee's allow-list of callers and operations:
//
//   spec:
//     accessControl:
//       defaultAction: deny              # allow | deny (case-insensitive)
//       trustDomain: public              # own trust domain (default "public")
//       policies:
//       - appId: app1                    # calling app id
//         namespace: default             # required
//         trustDomain: public            # required
//         defaultAction: deny            # for this caller when no operation matches
//         operations:
//         - name: /orders/*              # "/" prepended if missing; * one segment, ** the rest
//           httpVerb: [POST, GET]        # or ["*"]; ignored for gRPC apps
//           action: allow
//
// As in daprd: no section (or one with nothing in it) allows everything; policies without a
// global defaultAction make it deny. A policy without appId, namespace or trustDomain is refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "yaml-cpp/yaml.h"

namespace ringside::config {

struct AccessControlOperation {
  std::string name;                     // operation path as written ("/" prepended)
  std::vector<std::string> http_verbs;  // upper-case verb names or "*"
  std::string action;                   // lower-cased: "allow" / anything else denies
};

struct AccessControlPolicy {
  std::string app_id;          // calling app id
  std::string app_namespace;   // calling app's namespace
  std::string trust_domain;    // calling app's trust domain
  std::string default_action;  // lower-cased; "" = the global default
  std::vector<AccessControlOperation> operations;  // in the order written
};

struct AccessControl {
  bool present = false;                       // the section says anything at all
  std::string default_action = "allow";       // lower-cased global default (see above)
  std::string trust_domain = "public";        // own trust domain
  std::vector<AccessControlPolicy> policies;  // per calling app
};

// Parses the node at `path` (absent/null = no access control) into *out. Errors name the YAML
// path, e.g. `spec.accessControl.policies[0].namespace: is required`.
absl::Status parse_access_control(const YAML::Node& node, std::string_view path, AccessControl* out);

}  // namespace ringside::config
