#include "controlplane/config/access_control_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::config {
namespace {

constexpr std::string_view kVerbs[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
                                       "OPTIONS", "TRACE", "PATCH", "*"};

absl::StatusOr<std::string> action_at(const YAML::Node& node, std::string_view path) {
  absl::StatusOr<std::string> text = scalar(node, path);
  if (!text.ok()) return text.status();
  std::string action = absl::AsciiStrToLower(*text);
  if (action != "allow" && action != "deny") {
    return path_error(path, absl::StrCat(quoted(*text), " is not an action (allow or deny)"));
  }
  return action;
}

absl::Status parse_operation(const YAML::Node& node, const std::string& path, AccessControlOperation* out) {
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (absl::Status s = known_keys(node, path, {"name", "httpVerb", "action"}); !s.ok()) return s;
  if (!node["name"]) return path_error(join_path(path, "name"), "is required");
  absl::StatusOr<std::string> name = scalar(node["name"], join_path(path, "name"));
  if (!name.ok()) return name.status();
  if (name->empty()) return path_error(join_path(path, "name"), "must not be empty");
  out->name = (*name)[0] == '/' ? *name : "/" + *name;
  if (const YAML::Node verbs = node["httpVerb"]) {
    const std::string verbs_path = join_path(path, "httpVerb");
    if (!verbs.IsSequence()) return path_error(verbs_path, "must be a list");
    for (size_t i = 0; i < verbs.size(); ++i) {
      const std::string verb_path = absl::StrCat(verbs_path, "[", i, "]");
      absl::StatusOr<std::string> verb = scalar(verbs[i], verb_path);
      if (!verb.ok()) return verb.status();
      std::string upper = absl::AsciiStrToUpper(*verb);
      bool known = false;
      for (std::string_view v : kVerbs) known = known || upper == v;
      if (!known) return path_error(verb_path, absl::StrCat(quoted(*verb), " is not an HTTP verb (GET, POST, ... or *)"));
      out->http_verbs.push_back(std::move(upper));
    }
  }
  if (!node["action"]) return path_error(join_path(path, "action"), "is required");
  absl::StatusOr<std::string> action = action_at(node["action"], join_path(path, "action"));
  if (!action.ok()) return action.status();
  out->action = *action;
  return absl::OkStatus();
}

absl::Status parse_policy(const YAML::Node& node, const std::string& path, AccessControlPolicy* out) {
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (absl::Status s = known_keys(node, path, {"appId", "namespace", "trustDomain", "defaultAction", "operations"});
      !s.ok())
    return s;
  for (auto [key, field] : {std::pair<std::string_view, std::string*>{"appId", &out->app_id},
                            {"namespace", &out->app_namespace},
                            {"trustDomain", &out->trust_domain}}) {
    const std::string key_path = join_path(path, key);
    if (!node[std::string(key)]) return path_error(key_path, "is required");
    absl::StatusOr<std::string> v = scalar(node[std::string(key)], key_path);
    if (!v.ok()) return v.status();
    if (v->empty()) return path_error(key_path, "must not be empty");
    *field = *v;
  }
  if (const YAML::Node d = node["defaultAction"]) {
    absl::StatusOr<std::string> action = action_at(d, join_path(path, "defaultAction"));
    if (!action.ok()) return action.status();
    out->default_action = *action;
  }
  if (const YAML::Node ops = node["operations"]) {
    const std::string ops_path = join_path(path, "operations");
    if (!ops.IsSequence()) return path_error(ops_path, "must be a list");
    for (size_t i = 0; i < ops.size(); ++i) {
      AccessControlOperation op;
      if (absl::Status s = parse_operation(ops[i], absl::StrCat(ops_path, "[", i, "]"), &op); !s.ok()) return s;
      out->operations.push_back(std::move(op));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status parse_access_control(const YAML::Node& node, std::string_view path, AccessControl* out) {
  *out = AccessControl{};
  if (!node || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (absl::Status s = known_keys(node, path, {"defaultAction", "trustDomain", "policies"}); !s.ok()) return s;
  bool default_given = false;
  if (const YAML::Node d = node["defaultAction"]) {
    absl::StatusOr<std::string> action = action_at(d, join_path(path, "defaultAction"));
    if (!action.ok()) return action.status();
    out->default_action = *action;
    default_given = true;
  }
  if (const YAML::Node td = node["trustDomain"]) {
    absl::StatusOr<std::string> v = scalar(td, join_path(path, "trustDomain"));
    if (!v.ok()) return v.status();
    if (!v->empty()) out->trust_domain = *v;
    out->present = out->present || !v->empty();
  }
  if (const YAML::Node policies = node["policies"]) {
    const std::string policies_path = join_path(path, "policies");
    if (!policies.IsSequence() && !policies.IsNull()) return path_error(policies_path, "must be a list");
    for (size_t i = 0; policies.IsSequence() && i < policies.size(); ++i) {
      AccessControlPolicy p;
      if (absl::Status s = parse_policy(policies[i], absl::StrCat(policies_path, "[", i, "]"), &p); !s.ok()) return s;
      out->policies.push_back(std::move(p));
    }
  }
  out->present = out->present || default_given || !out->policies.empty();
  // daprd: a section that says something but no global default falls back to the safer choice,
  // unless it lists an explicitly empty set of policies.
  const bool empty_policy_list = node["policies"] && node["policies"].IsSequence() && out->policies.empty();
  if (out->present && !default_given && !empty_policy_list) out->default_action = "deny";
  return absl::OkStatus();
}

}  // namespace ringside::config
