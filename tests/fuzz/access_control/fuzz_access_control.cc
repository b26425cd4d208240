// Fuzzes spec.accessControl end to end: any YAML text either fails with an error naming a path
// under spec.accessControl, or compiles into an AccessControlList that answers (without crashing
// or reading out of bounds) for operations and callers taken from the same input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "controlplane/config/access_control_config.h"
#include "dataplane/mapping/access_control.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return 0;  // not YAML: the Configuration loader reports it before this parser runs
  }
  ringside::config::AccessControl ac;
  absl::Status s = ringside::config::parse_access_control(node, "spec.accessControl", &ac);
  if (!s.ok()) {
    if (s.message().find("spec.accessControl") == absl::string_view::npos) __builtin_trap();
    return 0;
  }
  if (ac.default_action != "allow" && ac.default_action != "deny") __builtin_trap();
  for (bool http : {true, false}) {
    ringside::invoke::AccessControlList acl(ac.default_action == "allow", ac.trust_domain, http);
    for (const auto& p : ac.policies) {
      std::vector<ringside::invoke::AccessControlList::OperationRule> rules;
      for (const auto& op : p.operations) rules.push_back({op.name, op.http_verbs, op.action == "allow"});
      acl.add_policy(p.app_id, p.app_namespace, p.trust_domain, p.default_action, rules);
      const ringside::invoke::CallerIdentity caller{p.trust_domain, p.app_namespace, p.app_id};
      for (const auto& op : p.operations) {
        for (int verb = 0; verb <= 10; ++verb) {
          (void)acl.allows(&caller, op.name, static_cast<ringside::http1::Verb>(verb));
        }
      }
    }
    // The raw input as an operation path, with and without an identity.
    const ringside::invoke::CallerIdentity someone{"public", "default", "app1"};
    (void)acl.allows(&someone, text, ringside::http1::Verb::kPost);
    (void)acl.allows(nullptr, text, ringside::http1::Verb::kGet);
    char out[256];
    (void)ringside::invoke::access_denied_text(&someone, text, ringside::http1::Verb::kPost, out);
  }
  return 0;
}
