#include "controlplane/config/load_balancing_config.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::config {
namespace {

using snapshot::LbPolicy;

constexpr std::string_view kPolicies = "roundRobin, random, leastRequest, ringHash, maglev";

absl::StatusOr<LbPolicy> policy_at(const YAML::Node& node, std::string_view path) {
  absl::StatusOr<std::string> text = scalar(node, path);
  if (!text.ok()) return text.status();
  const std::string v = absl::AsciiStrToLower(*text);
  if (v == "roundrobin" || v == "round_robin") return LbPolicy::kRoundRobin;
  if (v == "random") return LbPolicy::kRandom;
  if (v == "leastrequest" || v == "least_request") return LbPolicy::kLeastRequest;
  if (v == "ringhash" || v == "ring_hash") return LbPolicy::kRingHash;
  if (v == "maglev") return LbPolicy::kMaglev;
  return path_error(path, absl::StrCat(quoted(*text), " is not a policy (", to_absl(kPolicies), ")"));
}

// HTTP header names are tokens (RFC 9110 §5.6.2); gRPC metadata keys are a subset. Stored in
// lower case: HTTP/2 and gRPC carry them so, and HTTP/1 lookups compare case-insensitively.
absl::StatusOr<std::string> header_at(const YAML::Node& node, std::string_view path) {
  absl::StatusOr<std::string> text = scalar(node, path);
  if (!text.ok()) return text.status();
  if (text->empty()) return path_error(path, "must not be empty");
  for (unsigned char c : *text) {
    const bool token = absl::ascii_isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!token) return path_error(path, absl::StrCat(quoted(*text), " is not a header name"));
  }
  return absl::AsciiStrToLower(*text);
}

bool is_hash(LbPolicy p) { return p == LbPolicy::kRingHash || p == LbPolicy::kMaglev; }

// One policy map (the top level or apps.<id>); `inherit` is what unset fields take.
absl::Status parse_app(const YAML::Node& node, std::string_view path, bool top_level,
                       const snapshot::AppLoadBalancing& inherit, snapshot::AppLoadBalancing* out) {
  *out = inherit;
  if (YAML::Node n = node["policy"]) {
    auto p = policy_at(n, join_path(path, "policy"));
    if (!p.ok()) return p.status();
    out->policy = *p;
  }
  if (YAML::Node n = node["hashHeader"]) {
    auto h = header_at(n, join_path(path, "hashHeader"));
    if (!h.ok()) return h.status();
    out->hash_header = *h;
  }
  if (!top_level || node["policy"]) {
    if (is_hash(out->policy) && out->hash_header.empty())
      return path_error(join_path(path, "hashHeader"), "is required by the ringHash and maglev policies");
  }
  return absl::OkStatus();
}

absl::Status parse_outlier(const YAML::Node& node, std::string_view path, snapshot::OutlierDetection* out) {
  if (!node || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (auto s = known_keys(node, path, {"consecutiveFailures", "baseEjectionTime", "maxEjectionTime"}); !s.ok()) return s;
  if (YAML::Node n = node["consecutiveFailures"]) {
    auto v = int_at(n, join_path(path, "consecutiveFailures"), 0, 1000);
    if (!v.ok()) return v.status();
    out->consecutive_failures = static_cast<uint32_t>(*v);
  }
  for (const char* key : {"baseEjectionTime", "maxEjectionTime"}) {
    if (YAML::Node n = node[key]) {
      auto d = duration_at(n, join_path(path, key));
      if (!d.ok()) return d.status();
      if (d->count() <= 0) return path_error(join_path(path, key), "must be positive");
      (std::string_view(key) == "baseEjectionTime" ? out->base_ejection_ns : out->max_ejection_ns) = d->count();
    }
  }
  if (out->max_ejection_ns < out->base_ejection_ns)
    return path_error(join_path(path, "maxEjectionTime"), "must not be shorter than baseEjectionTime");
  return absl::OkStatus();
}

}  // namespace

absl::Status parse_load_balancing(const YAML::Node& node, std::string_view path, snapshot::LoadBalancing* out) {
  *out = snapshot::LoadBalancing();
  if (!node || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (auto s = known_keys(node, path, {"policy", "hashHeader", "outlierDetection", "apps"}); !s.ok()) return s;
  if (auto s = parse_app(node, path, /*top_level=*/true, {}, &out->defaults); !s.ok()) return s;
  if (auto s = parse_outlier(node["outlierDetection"], join_path(path, "outlierDetection"), &out->outlier); !s.ok()) return s;
  const YAML::Node apps = node["apps"];
  if (!apps || apps.IsNull()) return absl::OkStatus();
  const std::string apps_path = join_path(path, "apps");
  if (!apps.IsMap()) return path_error(apps_path, "must be a map of app id to {policy, hashHeader}");
  for (const auto& kv : apps) {
    if (!kv.first.IsScalar() || kv.first.Scalar().empty()) return path_error(apps_path, "app ids must be non-empty strings");
    const std::string app = kv.first.Scalar();
    const std::string app_path = join_path(apps_path, app);
    if (!kv.second.IsMap()) return path_error(app_path, "must be a map with policy and/or hashHeader");
    if (auto s = known_keys(kv.second, app_path, {"policy", "hashHeader"}); !s.ok()) return s;
    snapshot::AppLoadBalancing a;
    if (auto s = parse_app(kv.second, app_path, /*top_level=*/false, out->defaults, &a); !s.ok()) return s;
    out->apps[app] = a;
  }
  return absl::OkStatus();
}

absl::Status parse_load_balancing_yaml(std::string_view yaml_text, snapshot::LoadBalancing* out) {
  try {
    return parse_load_balancing(YAML::Load(std::string(yaml_text)), "spec.ringside.loadBalancing", out);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", e.what()));
  }
}

}  // namespace ringside::config
