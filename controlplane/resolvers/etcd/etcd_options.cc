#include "controlplane/resolvers/etcd/etcd_options.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/yaml_fields.h"
#include "controlplane/snapshot/socket_address.h"
#include "yaml-cpp/yaml.h"

namespace ringside::resolvers::etcd {

namespace {

using config::path_error;
using config::quoted;
using config::to_absl;
using config::to_std;

// "host:port" or "http://host:port" (etcd users write URLs); TLS is not supported.
absl::StatusOr<std::string> endpoint_at(std::string text, const std::string& path) {
  absl::string_view v = text;
  if (absl::StartsWith(v, "https://"))
    return path_error(path, absl::StrCat(quoted(text), ": TLS endpoints are not supported (use http:// or host:port)"));
  absl::ConsumePrefix(&v, "http://");
  absl::ConsumeSuffix(&v, "/");
  std::string_view host;
  uint16_t port = 0;
  if (!snapshot::split_host_port(to_std(v), &host, &port) || host.empty() || port == 0)
    return path_error(path, absl::StrCat(quoted(text), " is not host:port (e.g. 127.0.0.1:2379)"));
  return std::string(v);
}

absl::Status parse_endpoints(const YAML::Node& n, const std::string& path, EtcdOptions* out) {
  std::vector<std::pair<std::string, std::string>> items;  // (text, path)
  if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      std::string at = absl::StrCat(path, "[", i, "]");
      absl::StatusOr<std::string> s = config::scalar(n[i], at);
      if (!s.ok()) return s.status();
      items.emplace_back(*s, at);
    }
  } else {
    // A comma-separated string, as etcdctl's --endpoints.
    absl::StatusOr<std::string> s = config::scalar(n, path);
    if (!s.ok()) return s.status();
    for (absl::string_view part : absl::StrSplit(*s, ',', absl::SkipWhitespace())) {
      items.emplace_back(std::string(absl::StripAsciiWhitespace(part)), path);
    }
  }
  for (auto& [text, at] : items) {
    absl::StatusOr<std::string> e = endpoint_at(text, at);
    if (!e.ok()) return e.status();
    out->endpoints.push_back(*std::move(e));
  }
  if (out->endpoints.empty()) return path_error(path, "must name at least one etcd endpoint (host:port)");
  return absl::OkStatus();
}

}  // namespace

std::chrono::milliseconds effective_keep_alive_interval(const EtcdOptions& o) {
  if (o.keep_alive_interval.count() > 0) return o.keep_alive_interval;
  return std::chrono::duration_cast<std::chrono::milliseconds>(o.lease_ttl) / 3;
}

absl::StatusOr<EtcdOptions> parse_etcd_options(std::string_view configuration_yaml, std::string_view base) {
  auto at = [&](std::string_view key) { return absl::StrCat(to_absl(base), ".", to_absl(key)); };
  EtcdOptions out;
  YAML::Node cfg;
  try {
    cfg = YAML::Load(std::string(configuration_yaml));
  } catch (const YAML::Exception& e) {
    return path_error(base, absl::StrCat("is not valid YAML: ", e.what()));
  }
  if (!cfg || cfg.IsNull() || !cfg.IsMap()) return path_error(at("endpoints"), "is required (list of etcd host:port)");
  using std::chrono::duration_cast;

  YAML::Node endpoints = cfg["endpoints"];
  if (!endpoints) return path_error(at("endpoints"), "is required (list of etcd host:port)");
  if (absl::Status s = parse_endpoints(endpoints, at("endpoints"), &out); !s.ok()) return s;

  if (YAML::Node n = cfg["prefix"]) {
    absl::StatusOr<std::string> p = config::scalar(n, at("prefix"));
    if (!p.ok()) return p.status();
    absl::string_view v = *p;
    while (absl::ConsumeSuffix(&v, "/")) {
    }
    if (v.empty()) return path_error(at("prefix"), absl::StrCat(quoted(*p), " leaves no prefix (e.g. /ringside/instances)"));
    out.prefix = std::string(v);
  }
  if (YAML::Node n = cfg["leaseTTL"]) {
    absl::StatusOr<std::chrono::nanoseconds> d = config::duration_at(n, at("leaseTTL"));
    if (!d.ok()) return d.status();
    if (*d % std::chrono::seconds(1) != std::chrono::nanoseconds(0) || *d < std::chrono::seconds(1) ||
        *d > std::chrono::hours(24))
      return path_error(at("leaseTTL"), "must be a whole number of seconds between 1s and 24h (etcd leases count seconds)");
    out.lease_ttl = duration_cast<std::chrono::seconds>(*d);
  }
  if (YAML::Node n = cfg["keepAliveInterval"]) {
    absl::StatusOr<std::chrono::nanoseconds> d = config::duration_at(n, at("keepAliveInterval"));
    if (!d.ok()) return d.status();
    if (*d < std::chrono::milliseconds(100) || *d >= out.lease_ttl)
      return path_error(at("keepAliveInterval"), "must be at least 100ms and shorter than leaseTTL");
    out.keep_alive_interval = duration_cast<std::chrono::milliseconds>(*d);
  }
  for (auto [key, dst] : {std::pair{"dialTimeout", &out.dial_timeout}, std::pair{"maxBackoff", &out.max_backoff}}) {
    if (YAML::Node n = cfg[key]) {
      absl::StatusOr<std::chrono::nanoseconds> d = config::duration_at(n, at(key));
      if (!d.ok()) return d.status();
      if (*d < std::chrono::milliseconds(10) || *d > std::chrono::minutes(10))
        return path_error(at(key), "must be between 10ms and 10m");
      *dst = duration_cast<std::chrono::milliseconds>(*d);
    }
  }
  if (YAML::Node n = cfg["selfRegister"]) {
    absl::StatusOr<bool> b = config::bool_at(n, at("selfRegister"));
    if (!b.ok()) return b.status();
    out.self_register = *b;
  }
  for (const auto& kv : cfg) {
    std::string key = kv.first.as<std::string>();
    static constexpr std::string_view kKnown[] = {"endpoints",   "prefix",     "leaseTTL",    "keepAliveInterval",
                                                  "dialTimeout", "maxBackoff", "selfRegister"};
    bool known = false;
    for (std::string_view k : kKnown) known = known || k == key;
    if (!known)
      return path_error(at(key), "is not an etcd resolver option (endpoints, prefix, leaseTTL, keepAliveInterval, "
                                 "dialTimeout, maxBackoff, selfRegister)");
  }
  return out;
}

}  // namespace ringside::resolvers::etcd
