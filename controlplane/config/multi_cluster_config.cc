#include "controlplane/config/multi_cluster_config.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/yaml_fields.h"
#include "controlplane/snapshot/socket_address.h"

namespace ringside::config {
namespace {

using snapshot::ClusterStrategy;

constexpr std::string_view kStrategies = "local-first, external-first, local-only, external-only, broadcast";

absl::StatusOr<ClusterStrategy> strategy_at(const YAML::Node& node, std::string_view path) {
  absl::StatusOr<std::string> text = scalar(node, path);
  if (!text.ok()) return text.status();
  return parse_cluster_strategy(*text, path);
}

// Cluster names travel in the sync protocol and in metrics labels: keep them to DNS-label
// characters so they never need quoting.
absl::Status check_cluster_name(const std::string& name, std::string_view path) {
  if (name.empty()) return path_error(path, "must not be empty");
  if (name.size() > 63) return path_error(path, "is longer than 63 characters");
  for (unsigned char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.')
      return path_error(path, absl::StrCat(quoted(name), " may only hold letters, digits, '-', '_' and '.'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> read_token_file(const std::string& file, std::string_view path) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return path_error(path, absl::StrCat("cannot read ", quoted(file)));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(ss.str()));
  if (token.empty()) return path_error(path, absl::StrCat(quoted(file), " is empty"));
  return token;
}

}  // namespace

absl::StatusOr<ClusterStrategy> parse_cluster_strategy(std::string_view text, std::string_view path) {
  // Accept the documented kebab case and the camelCase Dapr resources use elsewhere.
  const std::string v = absl::StrReplaceAll(absl::AsciiStrToLower(to_absl(text)), {{"-", ""}, {"_", ""}});
  if (v == "localfirst") return ClusterStrategy::kLocalFirst;
  if (v == "externalfirst") return ClusterStrategy::kExternalFirst;
  if (v == "localonly") return ClusterStrategy::kLocalOnly;
  if (v == "externalonly") return ClusterStrategy::kExternalOnly;
  if (v == "broadcast") return ClusterStrategy::kBroadcast;
  return path_error(path, absl::StrCat(quoted(text), " is not a strategy (", to_absl(kStrategies), ")"));
}

absl::Status parse_multi_cluster(const YAML::Node& node, std::string_view path, MultiCluster* out) {
  *out = MultiCluster();
  if (!node || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return path_error(path, "must be a map");
  if (auto s = known_keys(node, path, {"cluster", "synchronizers", "token", "tokenFile", "strategy", "apps"}); !s.ok())
    return s;
  if (YAML::Node n = node["cluster"]) {
    auto c = scalar(n, join_path(path, "cluster"));
    if (!c.ok()) return c.status();
    if (auto s = check_cluster_name(*c, join_path(path, "cluster")); !s.ok()) return s;
    out->cluster = *c;
  }
  if (YAML::Node n = node["synchronizers"]) {
    const std::string sp = join_path(path, "synchronizers");
    if (n.IsScalar()) {
      // One address, or a comma-separated list as on a command line.
      YAML::Node list;
      for (absl::string_view part : absl::StrSplit(n.Scalar(), ',')) list.push_back(std::string(absl::StripAsciiWhitespace(part)));
      n = list;
    }
    if (!n.IsSequence()) return path_error(sp, "must be a list of host:port");
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ip = absl::StrCat(sp, "[", i, "]");
      auto a = scalar(n[i], ip);
      if (!a.ok()) return a.status();
      std::string_view host;
      uint16_t port = 0;
      if (!snapshot::split_host_port(*a, &host, &port) || host.empty() || port == 0)
        return path_error(ip, absl::StrCat(quoted(*a), " is not host:port"));
      out->synchronizers.push_back(*a);
    }
  }
  if (node["token"] && node["tokenFile"]) return path_error(join_path(path, "tokenFile"), "cannot be combined with token");
  if (YAML::Node n = node["token"]) {
    auto t = scalar(n, join_path(path, "token"));
    if (!t.ok()) return t.status();
    out->token = *t;
  }
  if (YAML::Node n = node["tokenFile"]) {
    auto f = scalar(n, join_path(path, "tokenFile"));
    if (!f.ok()) return f.status();
    auto t = read_token_file(*f, join_path(path, "tokenFile"));
    if (!t.ok()) return t.status();
    out->token = *t;
  }
  if (YAML::Node n = node["strategy"]) {
    auto s = strategy_at(n, join_path(path, "strategy"));
    if (!s.ok()) return s.status();
    out->strategies.defaults = *s;
  }
  if (const YAML::Node apps = node["apps"]; apps && !apps.IsNull()) {
    const std::string apps_path = join_path(path, "apps");
    if (!apps.IsMap()) return path_error(apps_path, "must be a map of app id to {strategy}");
    for (const auto& kv : apps) {
      if (!kv.first.IsScalar() || kv.first.Scalar().empty()) return path_error(apps_path, "app ids must be non-empty strings");
      const std::string app_path = join_path(apps_path, kv.first.Scalar());
      if (!kv.second.IsMap()) return path_error(app_path, "must be a map with strategy");
      if (auto s = known_keys(kv.second, app_path, {"strategy"}); !s.ok()) return s;
      if (!kv.second["strategy"]) return path_error(join_path(app_path, "strategy"), "is required");
      auto s = strategy_at(kv.second["strategy"], join_path(app_path, "strategy"));
      if (!s.ok()) return s.status();
      out->strategies.apps[kv.first.Scalar()] = *s;
    }
  }
  if (!out->synchronizers.empty() && out->cluster.empty())
    return path_error(join_path(path, "cluster"), "is required when synchronizers are given");
  return absl::OkStatus();
}

}  // namespace ringside::config
