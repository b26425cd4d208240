#include "controlplane/sync/sync_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/value_parsers.h"
#include "controlplane/config/yaml_fields.h"
#include "yaml-cpp/yaml.h"

namespace ringside::sync {
namespace {

using config::path_error;
using config::quoted;
using config::scalar;

constexpr const char* kKnownKeys[] = {"cluster",          "listen",          "metricsPort",
                                      "nameResolution",   "registryRefreshInterval", "peers",
                                      "subscriberToken",  "subscriberTokenFile",     "heartbeatInterval",
                                      "exportTtl",        "maxSubscribers",  "subscriberQueue"};

// Cluster names travel in metrics labels and logs: keep them to a safe alphabet.
bool valid_cluster_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool valid_host_port(std::string_view text) {
  size_t colon = text.rfind(':');
  return colon != std::string_view::npos && colon > 0 && config::parse_port(text.substr(colon + 1)).has_value();
}

absl::StatusOr<std::string> read_token_file(const std::string& file, std::string_view path) {
  std::ifstream in(file);
  if (!in) return path_error(path, absl::StrCat("cannot read token file ", quoted(file)));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(ss.str()));
  if (token.empty()) return path_error(path, absl::StrCat("token file ", quoted(file), " is empty"));
  return token;
}

// `token` / `tokenFile` pair at `base` (keys named `key` and `key`+"File").
absl::StatusOr<std::string> token_at(const YAML::Node& map, std::string_view base, const std::string& key) {
  const std::string file_key = key + "File";
  auto at = [&](const std::string& k) { return base.empty() ? k : absl::StrCat(config::to_absl(base), ".", k); };
  if (map[key] && map[file_key]) return path_error(at(file_key), absl::StrCat("cannot be combined with ", key));
  if (YAML::Node n = map[key]) return scalar(n, at(key));
  if (YAML::Node n = map[file_key]) {
    absl::StatusOr<std::string> f = scalar(n, at(file_key));
    if (!f.ok()) return f.status();
    return read_token_file(*f, at(file_key));
  }
  return std::string();
}

absl::StatusOr<std::chrono::milliseconds> positive_duration(const YAML::Node& n, std::string_view path) {
  absl::StatusOr<std::chrono::nanoseconds> d = config::duration_at(n, path);
  if (!d.ok()) return d.status();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  if (ms.count() <= 0) return path_error(path, "must be at least 1ms");
  return ms;
}

// The registry block is a Dapr spec.nameResolution: parse it with the Configuration parser so
// both accept exactly the same thing, and name our path in its errors.
absl::Status parse_registry(const YAML::Node& node, config::NameResolution* out) {
  YAML::Node doc;
  doc["spec"]["nameResolution"] = node;
  absl::StatusOr<config::Configuration> c = config::parse_configuration(YAML::Dump(doc));
  if (!c.ok()) {
    return absl::Status(c.status().code(),
                        absl::StrReplaceAll(c.status().message(), {{"spec.nameResolution", "nameResolution"}}));
  }
  *out = std::move(c->name_resolution);
  const std::string& comp = out->component;
  if (comp != "sqlite" && comp != "static" && comp != "etcd") {
    return path_error("nameResolution.component",
                      absl::StrCat(quoted(comp),
                                   " cannot be read by ringside-sync: it needs a registry it can list whole "
                                   "(sqlite, static or etcd)",
                                   comp == "consul" ? "; consul has no list-all in ringside yet" : ""));
  }
  return absl::OkStatus();
}

absl::Status parse_peers(const YAML::Node& node, std::vector<PeerConfig>* out) {
  if (!node.IsSequence()) return path_error("peers", "must be a list");
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string base = absl::StrCat("peers[", i, "]");
    const YAML::Node p = node[i];
    if (!p.IsMap()) return path_error(base, "must be a map (cluster, addresses, token)");
    for (const auto& kv : p) {
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      if (k != "cluster" && k != "addresses" && k != "token" && k != "tokenFile")
        return path_error(absl::StrCat(base, ".", k), "unknown key (expected one of: cluster, addresses, token, tokenFile)");
    }
    PeerConfig peer;
    if (!p["cluster"]) return path_error(base + ".cluster", "is required");
    absl::StatusOr<std::string> name = scalar(p["cluster"], base + ".cluster");
    if (!name.ok()) return name.status();
    if (!valid_cluster_name(*name))
      return path_error(base + ".cluster", absl::StrCat(quoted(*name), " is not a cluster name (letters, digits, -_.)"));
    peer.cluster = *name;
    const YAML::Node a = p["addresses"];
    if (!a) return path_error(base + ".addresses", "is required (host:port of the peer's synchronizers)");
    std::vector<YAML::Node> items;
    if (a.IsScalar()) {
      items.push_back(a);
    } else if (a.IsSequence()) {
      for (const auto& item : a) items.push_back(item);
    } else {
      return path_error(base + ".addresses", "must be a list of host:port");
    }
    for (size_t j = 0; j < items.size(); ++j) {
      const std::string at = absl::StrCat(base, ".addresses[", j, "]");
      absl::StatusOr<std::string> addr = scalar(items[j], at);
      if (!addr.ok()) return addr.status();
      if (!valid_host_port(*addr)) return path_error(at, absl::StrCat(quoted(*addr), " is not host:port"));
      peer.addresses.push_back(*addr);
    }
    if (peer.addresses.empty()) return path_error(base + ".addresses", "must not be empty");
    absl::StatusOr<std::string> token = token_at(p, base, "token");
    if (!token.ok()) return token.status();
    if (token->empty()) return path_error(base + ".token", "is required (the token both synchronizers share)");
    peer.token = *token;
    for (const PeerConfig& other : *out) {
      if (other.cluster == peer.cluster)
        return path_error(base + ".cluster", absl::StrCat(quoted(peer.cluster), " is listed twice"));
    }
    out->push_back(std::move(peer));
  }
  return absl::OkStatus();
}

absl::Status check(const SyncConfig& c, const std::string& cluster_source, const std::string& listen_source) {
  if (c.cluster.empty()) return absl::InvalidArgumentError(absl::StrCat(cluster_source, ": a cluster name is required"));
  if (!valid_cluster_name(c.cluster))
    return absl::InvalidArgumentError(
        absl::StrCat(cluster_source, ": ", quoted(c.cluster), " is not a cluster name (letters, digits, -_.)"));
  if (!valid_host_port(c.listen))
    return absl::InvalidArgumentError(absl::StrCat(listen_source, ": ", quoted(c.listen), " is not host:port"));
  for (size_t i = 0; i < c.peers.size(); ++i) {
    if (c.peers[i].cluster == c.cluster)
      return absl::InvalidArgumentError(
          absl::StrCat("peers[", i, "].cluster: ", quoted(c.cluster), " is our own cluster"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SyncConfig> parse_sync_config(std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
  }
  SyncConfig out;
  out.registry.sqlite.path = config::default_sqlite_path();
  out.registry.sqlite.path_is_default = true;
  if (!root || root.IsNull()) return out;
  if (!root.IsMap()) return path_error("(document)", "must be a map");
  try {
    for (const auto& kv : root) {
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      bool known = false;
      for (const char* key : kKnownKeys) known = known || k == key;
      if (!known) {
        std::string list;
        for (const char* key : kKnownKeys) absl::StrAppend(&list, list.empty() ? "" : ", ", key);
        return path_error(k, absl::StrCat("unknown key (expected one of: ", list, ")"));
      }
    }
    if (YAML::Node n = root["cluster"]) {
      absl::StatusOr<std::string> v = scalar(n, "cluster");
      if (!v.ok()) return v.status();
      out.cluster = *v;
    }
    if (YAML::Node n = root["listen"]) {
      absl::StatusOr<std::string> v = scalar(n, "listen");
      if (!v.ok()) return v.status();
      out.listen = *v;
    }
    if (YAML::Node n = root["metricsPort"]) {
      absl::StatusOr<int64_t> v = config::int_at(n, "metricsPort", -1, 65535);
      if (!v.ok()) return v.status();
      out.metrics_port = static_cast<int>(*v);
    }
    if (YAML::Node n = root["nameResolution"]) {
      if (absl::Status s = parse_registry(n, &out.registry); !s.ok()) return s;
    }
    if (YAML::Node n = root["registryRefreshInterval"]) {
      absl::StatusOr<std::chrono::milliseconds> d = positive_duration(n, "registryRefreshInterval");
      if (!d.ok()) return d.status();
      out.registry_refresh = *d;
    }
    if (YAML::Node n = root["peers"]) {
      if (absl::Status s = parse_peers(n, &out.peers); !s.ok()) return s;
    }
    absl::StatusOr<std::string> token = token_at(root, "", "subscriberToken");
    if (!token.ok()) return token.status();
    out.subscriber_token = *token;
    if (YAML::Node n = root["heartbeatInterval"]) {
      absl::StatusOr<std::chrono::milliseconds> d = positive_duration(n, "heartbeatInterval");
      if (!d.ok()) return d.status();
      out.heartbeat = *d;
    }
    if (YAML::Node n = root["exportTtl"]) {
      absl::StatusOr<std::chrono::milliseconds> d = positive_duration(n, "exportTtl");
      if (!d.ok()) return d.status();
      out.export_ttl = *d;
      out.export_ttl_set = true;
    }
    if (!out.export_ttl_set) out.export_ttl = 3 * out.heartbeat;
    if (out.export_ttl <= out.heartbeat)
      return path_error("exportTtl", "must be longer than heartbeatInterval (else live peers expire between heartbeats)");
    if (YAML::Node n = root["maxSubscribers"]) {
      absl::StatusOr<int64_t> v = config::int_at(n, "maxSubscribers", 1, 1000000);
      if (!v.ok()) return v.status();
      out.max_subscribers = static_cast<size_t>(*v);
    }
    if (YAML::Node n = root["subscriberQueue"]) {
      absl::StatusOr<int64_t> v = config::int_at(n, "subscriberQueue", 1, 100000);
      if (!v.ok()) return v.status();
      out.subscriber_queue = static_cast<size_t>(*v);
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
  }
  return out;
}

std::string sync_usage() {
  return "Usage: ringside-sync --config <sync.yaml> [flags]\n"
         "\n"
         "The ringside synchronizer: reads its own cluster's registry, exports those instances to\n"
         "the synchronizers of its peer clusters, and serves the other clusters' instances to the\n"
         "sidecars of its own cluster (docs/ringside-sync.md).\n"
         "\n"
         "Flags (flags override the file):\n"
         "  --config <file>          sync configuration (YAML; default: none)\n"
         "  --cluster <name>         our cluster name (required here or in the file)\n"
         "  --listen <host:port>     gRPC listen address for peers and sidecars (default: 0.0.0.0:50070)\n"
         "  --metrics-port <port>    /metrics and /healthz port; 0 = any free port, -1 = off (default: 9091)\n"
         "  --log-level <level>      debug, info, warn or error (default: info)\n"
         "  --version                print the version and exit\n"
         "  --help                   print this help and exit\n";
}

absl::StatusOr<SyncCommand> parse_sync_command(int argc, const char* const* argv) {
  SyncCommand cmd;
  std::string config_path;
  std::optional<std::string> cluster, listen, metrics_port, log_level;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      cmd.help = true;
      return cmd;
    }
    if (arg == "--version") {
      cmd.version = true;
      return cmd;
    }
    if (!absl::StartsWith(config::to_absl(arg), "--"))
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument ", quoted(arg), " (see --help)"));
    std::string name(arg.substr(2));
    std::string value;
    const bool has_inline_value = name.find('=') != std::string::npos;
    if (has_inline_value) {
      value = name.substr(name.find('=') + 1);
      name.resize(name.find('='));
    }
    if (name != "config" && name != "cluster" && name != "listen" && name != "metrics-port" && name != "log-level")
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    if (!has_inline_value) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      value = argv[++i];
    }
    if (name == "config") config_path = value;
    else if (name == "cluster") cluster = value;
    else if (name == "listen") listen = value;
    else if (name == "metrics-port") metrics_port = value;
    else log_level = value;
  }
  if (!config_path.empty()) {
    std::ifstream in(config_path);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("--config: cannot read ", quoted(config_path)));
    std::stringstream ss;
    ss << in.rdbuf();
    absl::StatusOr<SyncConfig> c = parse_sync_config(ss.str());
    if (!c.ok()) return absl::Status(c.status().code(), absl::StrCat(config_path, ": ", c.status().message()));
    cmd.config = *std::move(c);
  } else {
    absl::StatusOr<SyncConfig> c = parse_sync_config("");
    if (!c.ok()) return c.status();
    cmd.config = *std::move(c);
  }
  SyncConfig& c = cmd.config;
  if (cluster) c.cluster = *cluster;
  if (listen) c.listen = *listen;
  if (metrics_port) {
    std::optional<int64_t> p = config::parse_int(*metrics_port);
    if (!p || *p < -1 || *p > 65535)
      return absl::InvalidArgumentError(
          absl::StrCat("flag --metrics-port: ", quoted(*metrics_port), " is not a port number (or -1 = off)"));
    c.metrics_port = static_cast<int>(*p);
  }
  if (log_level) {
    std::string l = absl::AsciiStrToLower(*log_level);
    if (l != "debug" && l != "info" && l != "warn" && l != "error")
      return absl::InvalidArgumentError(
          absl::StrCat("flag --log-level: ", quoted(*log_level), " is not one of debug, info, warn, error"));
    c.log_level = l;
  }
  if (absl::Status s = check(c, cluster ? "flag --cluster" : (config_path.empty() ? "flag --cluster" : "cluster"),
                             listen ? "flag --listen" : "listen");
      !s.ok())
    return s;
  // /metrics binds where the gRPC port does (a loopback-only sync keeps its metrics local too).
  c.metrics_address = c.listen.substr(0, c.listen.rfind(':'));
  if (absl::StartsWith(c.metrics_address, "[")) c.metrics_address = c.metrics_address.substr(1, c.metrics_address.size() - 2);
  return cmd;
}

}  // namespace ringside::sync
