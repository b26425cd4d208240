#include "controlplane/config/resiliency_config.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/value_parsers.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::config {
namespace {

constexpr int64_t kMaxDurationNs = int64_t{24} * 3600 * 1'000'000'000 * 365;  // a year: far beyond any policy

// The keys of a map as scalars; an error names the first one that is not a scalar.
absl::StatusOr<std::vector<std::pair<std::string, YAML::Node>>> entries(const YAML::Node& map, std::string_view path) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (!map || map.IsNull()) return out;
  if (!map.IsMap()) return path_error(path, "must be a map");
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) return path_error(path, "keys must be names");
    std::string key = it->first.Scalar();
    if (key.empty()) return path_error(path, "a name must not be empty");
    out.emplace_back(std::move(key), it->second);
  }
  return out;
}

absl::StatusOr<int64_t> positive_duration_at(const YAML::Node& node, const std::string& path, bool zero_ok) {
  absl::StatusOr<std::chrono::nanoseconds> d = duration_at(node, path);
  if (!d.ok()) return d.status();
  if (d->count() > kMaxDurationNs) return path_error(path, "is too long");
  if (d->count() == 0 && !zero_ok) return path_error(path, "must be more than 0");
  return static_cast<int64_t>(d->count());
}

absl::Status parse_retry(const YAML::Node& node, const std::string& path, RetryPolicyConfig* out) {
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (absl::Status s = known_keys(node, path, {"policy", "duration", "maxInterval", "maxRetries", "matching"}); !s.ok())
    return s;
  if (const YAML::Node p = node["policy"]) {
    absl::StatusOr<std::string> kind = scalar(p, join_path(path, "policy"));
    if (!kind.ok()) return kind.status();
    std::string lower = absl::AsciiStrToLower(*kind);
    if (lower == "exponential") {
      out->exponential = true;
    } else if (lower != "constant" && !lower.empty()) {
      return path_error(join_path(path, "policy"), absl::StrCat(quoted(*kind), " is not a retry policy (constant or exponential)"));
    }
  }
  if (const YAML::Node d = node["duration"]) {
    absl::StatusOr<int64_t> v = positive_duration_at(d, join_path(path, "duration"), /*zero_ok=*/true);
    if (!v.ok()) return v.status();
    out->duration_ns = *v;
  }
  if (const YAML::Node d = node["maxInterval"]) {
    absl::StatusOr<int64_t> v = positive_duration_at(d, join_path(path, "maxInterval"), /*zero_ok=*/false);
    if (!v.ok()) return v.status();
    out->max_interval_ns = *v;
  }
  if (const YAML::Node m = node["maxRetries"]) {
    absl::StatusOr<int64_t> v = int_at(m, join_path(path, "maxRetries"), -1, 1'000'000'000);
    if (!v.ok()) return v.status();
    out->max_retries = *v;
  }
  if (const YAML::Node m = node["matching"]) {
    const std::string mpath = join_path(path, "matching");
    if (m.IsNull()) return absl::OkStatus();
    if (!m.IsMap()) return path_error(mpath, "must be a map");
    if (absl::Status s = known_keys(m, mpath, {"httpStatusCodes", "gRPCStatusCodes"}); !s.ok()) return s;
    for (auto [key, min, max, field] : {std::tuple<std::string_view, int, int, CodeRanges*>{"httpStatusCodes", 100, 599, &out->http_status_codes},
                                        {"gRPCStatusCodes", 0, 16, &out->grpc_status_codes}}) {
      const YAML::Node list = m[std::string(key)];
      if (!list) continue;
      const std::string kpath = join_path(mpath, key);
      absl::StatusOr<std::string> text = scalar(list, kpath);
      if (!text.ok()) return text.status();
      absl::StatusOr<CodeRanges> ranges = parse_code_ranges(*text, min, max, kpath);
      if (!ranges.ok()) return ranges.status();
      *field = *std::move(ranges);
    }
  }
  return absl::OkStatus();
}

absl::Status parse_breaker(const YAML::Node& node, const std::string& path, CircuitBreakerConfig* out) {
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (absl::Status s = known_keys(node, path, {"maxRequests", "interval", "timeout", "trip"}); !s.ok()) return s;
  if (const YAML::Node m = node["maxRequests"]) {
    // gobreaker: 0 means 1. The state word holds up to 2^15-1 probes.
    absl::StatusOr<int64_t> v = int_at(m, join_path(path, "maxRequests"), 0, 32767);
    if (!v.ok()) return v.status();
    out->max_requests = *v == 0 ? 1 : static_cast<uint32_t>(*v);
  }
  if (const YAML::Node d = node["interval"]) {
    absl::StatusOr<int64_t> v = positive_duration_at(d, join_path(path, "interval"), /*zero_ok=*/true);
    if (!v.ok()) return v.status();
    out->interval_ns = *v;
  }
  if (const YAML::Node d = node["timeout"]) {
    absl::StatusOr<int64_t> v = positive_duration_at(d, join_path(path, "timeout"), /*zero_ok=*/true);
    if (!v.ok()) return v.status();
    // gobreaker: 0 means its default, 60s.
    out->timeout_ns = *v == 0 ? 60'000'000'000 : *v;
  }
  if (const YAML::Node t = node["trip"]) {
    const std::string tpath = join_path(path, "trip");
    absl::StatusOr<std::string> text = scalar(t, tpath);
    if (!text.ok()) return text.status();
    std::optional<uint32_t> n = parse_trip(*text);
    if (!n) {
      return path_error(tpath, absl::StrCat(quoted(*text),
                                            " is not a supported trip expression (ringside supports "
                                            "\"consecutiveFailures > N\" and \"consecutiveFailures >= N\")"));
    }
    out->trip_consecutive_failures = *n;
  }
  return absl::OkStatus();
}

absl::Status parse_targets(const YAML::Node& node, const std::string& path, ResiliencyResource* out) {
  if (!node || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (absl::Status s = known_keys(node, path, {"apps", "actors", "components"}); !s.ok()) return s;
  const std::string apps_path = join_path(path, "apps");
  auto apps = entries(node["apps"], apps_path);
  if (!apps.ok()) return apps.status();
  for (const auto& [app_id, target] : *apps) {
    const std::string tpath = join_path(apps_path, app_id);
    if (target.IsNull()) continue;
    if (!target.IsMap()) return path_error(tpath, "must be a map");
    if (absl::Status s = known_keys(target, tpath, {"timeout", "retry", "circuitBreaker", "circuitBreakerCacheSize"}); !s.ok())
      return s;
    TargetPolicyNames names;
    for (auto [key, field] : {std::pair<std::string_view, std::string*>{"timeout", &names.timeout},
                              {"retry", &names.retry},
                              {"circuitBreaker", &names.circuit_breaker}}) {
      const YAML::Node v = target[std::string(key)];
      if (!v) continue;
      absl::StatusOr<std::string> name = scalar(v, join_path(tpath, key));
      if (!name.ok()) return name.status();
      *field = *name;
    }
    if (const YAML::Node c = target["circuitBreakerCacheSize"]) {
      absl::StatusOr<int64_t> v = int_at(c, join_path(tpath, "circuitBreakerCacheSize"), 0, 1'000'000);
      if (!v.ok()) return v.status();
    }
    out->app_targets[app_id] = std::move(names);
  }
  return absl::OkStatus();
}

std::string document_source(const std::string& file, size_t index) { return absl::StrCat(file, ": document ", index + 1); }

bool has_yaml_extension(std::string_view name) {
  return (name.size() > 5 && name.substr(name.size() - 5) == ".yaml") ||
         (name.size() > 4 && name.substr(name.size() - 4) == ".yml");
}

}  // namespace

std::vector<std::string> split_yaml_documents(std::string_view text) {
  std::vector<std::string> docs;
  std::string current;
  auto flush = [&] {
    if (current.find_first_not_of(" \t\r\n") != std::string::npos) docs.push_back(std::move(current));
    current.clear();
  };
  // A marker is "---" or "..." at the start of a line, alone or followed by a blank.
  auto marker = [](std::string_view line, std::string_view m) {
    return line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (marker(line, "---")) {
      flush();
      current.append(line.substr(3));  // "--- {inline: doc}"
      current.push_back('\n');
    } else if (marker(line, "...")) {
      flush();
    } else {
      current.append(line);
      current.push_back('\n');
    }
    pos = end + 1;
  }
  flush();
  return docs;
}

absl::StatusOr<CodeRanges> parse_code_ranges(std::string_view text, int min, int max, std::string_view path) {
  CodeRanges out;
  for (absl::string_view part : absl::StrSplit(to_absl(text), ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (part.empty()) continue;  // daprd skips empty items ("500,,502")
    int lo = 0;
    int hi = 0;
    const size_t dash = part.find('-');
    bool ok = dash == absl::string_view::npos
                  ? absl::SimpleAtoi(part, &lo) && (hi = lo, true)
                  : absl::SimpleAtoi(absl::StripAsciiWhitespace(part.substr(0, dash)), &lo) &&
                        absl::SimpleAtoi(absl::StripAsciiWhitespace(part.substr(dash + 1)), &hi);
    if (!ok || lo < min || hi > max || lo > hi) {
      return path_error(path, absl::StrCat(quoted(std::string(part)), " is not a status code or range within ", min, "-", max));
    }
    out.emplace_back(lo, hi);
  }
  return out;
}

std::optional<uint32_t> parse_trip(std::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(to_absl(text));
  if (!absl::ConsumePrefix(&t, "consecutiveFailures")) return std::nullopt;
  t = absl::StripLeadingAsciiWhitespace(t);
  bool or_equal = false;
  if (absl::ConsumePrefix(&t, ">=")) {
    or_equal = true;
  } else if (!absl::ConsumePrefix(&t, ">")) {
    return std::nullopt;
  }
  t = absl::StripLeadingAsciiWhitespace(t);
  uint32_t n = 0;
  if (t.empty() || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(t, &n) || n > 1'000'000) {
    return std::nullopt;
  }
  const uint32_t trips_at = or_equal ? n : n + 1;
  return trips_at == 0 ? 1 : trips_at;  // ">= 0": the first failure trips
}

absl::Status parse_resiliency(const YAML::Node& doc, ResiliencyResource* out) {
  if (!doc.IsMap()) return path_error("(document)", "must be a map");
  if (absl::Status s = known_keys(doc, "(document)", {"apiVersion", "kind", "metadata", "scopes", "spec"}); !s.ok())
    return s;
  if (const YAML::Node v = doc["apiVersion"]) {
    absl::StatusOr<std::string> api = scalar(v, "apiVersion");
    if (!api.ok()) return api.status();
    if (*api != "dapr.io/v1alpha1") return path_error("apiVersion", absl::StrCat(quoted(*api), " is not dapr.io/v1alpha1"));
  }
  if (const YAML::Node md = doc["metadata"]; md && md.IsMap() && md["name"]) {
    absl::StatusOr<std::string> name = scalar(md["name"], "metadata.name");
    if (!name.ok()) return name.status();
    out->name = *name;
  }
  if (const YAML::Node scopes = doc["scopes"]; scopes && !scopes.IsNull()) {
    if (!scopes.IsSequence()) return path_error("scopes", "must be a list");
    for (size_t i = 0; i < scopes.size(); ++i) {
      absl::StatusOr<std::string> id = scalar(scopes[i], absl::StrCat("scopes[", i, "]"));
      if (!id.ok()) return id.status();
      out->scopes.push_back(*id);
    }
  }
  const YAML::Node spec = doc["spec"];
  if (!spec || spec.IsNull()) return absl::OkStatus();
  if (!spec.IsMap()) return path_error("spec", "must be a map");
  if (absl::Status s = known_keys(spec, "spec", {"policies", "targets"}); !s.ok()) return s;
  const YAML::Node policies = spec["policies"];
  if (policies && !policies.IsNull()) {
    if (!policies.IsMap()) return path_error("spec.policies", "must be a map");
    if (absl::Status s = known_keys(policies, "spec.policies", {"timeouts", "retries", "circuitBreakers"}); !s.ok())
      return s;
    auto timeouts = entries(policies["timeouts"], "spec.policies.timeouts");
    if (!timeouts.ok()) return timeouts.status();
    for (const auto& [name, node] : *timeouts) {
      absl::StatusOr<int64_t> v = positive_duration_at(node, join_path("spec.policies.timeouts", name), /*zero_ok=*/false);
      if (!v.ok()) return v.status();
      out->timeouts[name] = *v;
    }
    auto retries = entries(policies["retries"], "spec.policies.retries");
    if (!retries.ok()) return retries.status();
    for (const auto& [name, node] : *retries) {
      RetryPolicyConfig r;
      if (absl::Status s = parse_retry(node, join_path("spec.policies.retries", name), &r); !s.ok()) return s;
      out->retries[name] = std::move(r);
    }
    auto breakers = entries(policies["circuitBreakers"], "spec.policies.circuitBreakers");
    if (!breakers.ok()) return breakers.status();
    for (const auto& [name, node] : *breakers) {
      CircuitBreakerConfig c;
      if (absl::Status s = parse_breaker(node, join_path("spec.policies.circuitBreakers", name), &c); !s.ok()) return s;
      out->circuit_breakers[name] = c;
    }
  }
  return parse_targets(spec["targets"], "spec.targets", out);
}

absl::StatusOr<std::vector<ResiliencyResource>> load_resiliency(const std::vector<std::string>& dirs,
                                                                std::string_view app_id) {
  std::vector<ResiliencyResource> out;
  for (const std::string& dir : dirs) {
    std::vector<std::string> files;
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d)) {
        if (has_yaml_extension(e->d_name)) files.push_back(absl::StrCat(dir, "/", e->d_name));
      }
      closedir(d);
    }
    std::sort(files.begin(), files.end());  // a stable order: later files win name clashes
    for (const std::string& file : files) {
      std::ifstream in(file);
      if (!in) return absl::InvalidArgumentError(absl::StrCat(file, ": cannot be read"));
      std::stringstream text;
      text << in.rdbuf();
      const std::vector<std::string> texts = split_yaml_documents(text.str());
      for (size_t i = 0; i < texts.size(); ++i) {
        YAML::Node doc;
        try {
          doc = YAML::Load(texts[i]);
        } catch (const YAML::Exception& e) {
          return absl::InvalidArgumentError(absl::StrCat(document_source(file, i), ": not valid YAML: ", e.what()));
        }
        if (!doc.IsMap() || !doc["kind"] || !doc["kind"].IsScalar() || doc["kind"].Scalar() != "Resiliency") continue;
        ResiliencyResource r;
        r.source = document_source(file, i);
        absl::Status s;
        try {
          s = parse_resiliency(doc, &r);
        } catch (const YAML::Exception& e) {
          s = absl::InvalidArgumentError(e.what());
        }
        if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(r.source, ": ", s.message()));
        if (!r.scopes.empty() && std::find(r.scopes.begin(), r.scopes.end(), app_id) == r.scopes.end()) continue;
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

absl::StatusOr<ResolvedResiliency> resolve_resiliency(const std::vector<ResiliencyResource>& resources) {
  std::map<std::string, int64_t> timeouts;
  std::map<std::string, RetryPolicyConfig> retries;
  std::map<std::string, CircuitBreakerConfig> breakers;
  for (const ResiliencyResource& r : resources) {
    for (const auto& [k, v] : r.timeouts) timeouts[k] = v;
    for (const auto& [k, v] : r.retries) retries[k] = v;
    for (const auto& [k, v] : r.circuit_breakers) breakers[k] = v;
  }
  ResolvedResiliency out;
  std::map<std::string, ResolvedAppPolicies> apps;
  for (const ResiliencyResource& r : resources) {
    for (const auto& [app_id, names] : r.app_targets) {
      ResolvedAppPolicies p;
      const std::string path = absl::StrCat(r.source, ": spec.targets.apps.", app_id);
      if (!names.timeout.empty()) {
        auto it = timeouts.find(names.timeout);
        if (it == timeouts.end()) return absl::InvalidArgumentError(absl::StrCat(path, ".timeout: ", quoted(names.timeout), " is not a timeout policy in spec.policies.timeouts"));
        p.timeout_ns = it->second;
      }
      if (!names.retry.empty()) {
        auto it = retries.find(names.retry);
        if (it == retries.end()) return absl::InvalidArgumentError(absl::StrCat(path, ".retry: ", quoted(names.retry), " is not a retry policy in spec.policies.retries"));
        p.retry = it->second;
      }
      if (!names.circuit_breaker.empty()) {
        auto it = breakers.find(names.circuit_breaker);
        if (it == breakers.end()) return absl::InvalidArgumentError(absl::StrCat(path, ".circuitBreaker: ", quoted(names.circuit_breaker), " is not a circuit breaker in spec.policies.circuitBreakers"));
        p.circuit_breaker = it->second;
      }
      apps[app_id] = p;
    }
  }
  for (auto& [id, p] : apps) out.apps.emplace_back(id, p);
  // Defaults: the invocation-specific name first, then the general one (spec §6.2).
  auto pick = [](const auto& map, std::string_view app_name, std::string_view general) -> const auto* {
    auto it = map.find(std::string(app_name));
    if (it == map.end()) it = map.find(std::string(general));
    return it == map.end() ? nullptr : &it->second;
  };
  if (const int64_t* t = pick(timeouts, "DefaultAppTimeoutPolicy", "DefaultTimeoutPolicy")) out.defaults.timeout_ns = *t;
  if (const RetryPolicyConfig* r = pick(retries, "DefaultAppRetryPolicy", "DefaultRetryPolicy")) out.defaults.retry = *r;
  if (const CircuitBreakerConfig* c = pick(breakers, "DefaultAppCircuitBreakerPolicy", "DefaultCircuitBreakerPolicy"))
    out.defaults.circuit_breaker = *c;
  if (auto it = retries.find("DaprBuiltInServiceRetries"); it != retries.end()) {
    RetryPolicyConfig r = it->second;
    if (r.max_retries >= 0 && r.max_retries < 3) r.max_retries = 3;  // spec §6.1: forced back to 3
    out.builtin_override = r;
  }
  return out;
}

}  // namespace ringside::config
