#include "controlplane/config/configuration.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controlplane/config/load_balancing_config.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/value_parsers.h"
#include "controlplane/config/yaml_fields.h"
#include "controlplane/snapshot/socket_address.h"
#include "yaml-cpp/yaml.h"

namespace ringside::config {

namespace {
constexpr std::string_view kKnownResolvers[] = {"sqlite", "static", "mdns", "kubernetes", "nameformat", "consul", "etcd"};
}  // namespace

bool is_known_resolver(std::string_view component) {
  for (std::string_view k : kKnownResolvers) {
    if (k == component) return true;
  }
  return false;
}

std::string known_resolvers_text() {
  std::string out;
  for (std::string_view k : kKnownResolvers) {
    if (!out.empty()) out += ", ";
    out += std::string(k);
  }
  return out;
}

absl::Status path_error(std::string_view path, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(to_absl(path), ": ", to_absl(problem)));
}

std::string join_path(std::string_view path, std::string_view key) {
  return absl::StrCat(to_absl(path), ".", to_absl(key));
}

absl::Status known_keys(const YAML::Node& map, std::string_view path, std::initializer_list<std::string_view> keys) {
  for (const auto& kv : map) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    bool known = false;
    for (std::string_view k : keys) known = known || k == key;
    if (!known) {
      std::string list;
      for (std::string_view k : keys) absl::StrAppend(&list, list.empty() ? "" : ", ", to_absl(k));
      return path_error(join_path(path, key), absl::StrCat("unknown key (expected one of: ", list, ")"));
    }
  }
  return absl::OkStatus();
}

std::string quoted(std::string_view v) { return absl::StrCat("\"", to_absl(v), "\""); }

// Scalar text of a node, or an error when it is a map/list.
absl::StatusOr<std::string> scalar(const YAML::Node& node, std::string_view path) {
  if (!node.IsScalar()) return path_error(path, "must be a single value");
  return node.Scalar();
}

absl::StatusOr<std::chrono::nanoseconds> duration_at(const YAML::Node& node, std::string_view path) {
  absl::StatusOr<std::string> text = scalar(node, path);
  if (!text.ok()) return text.status();
  auto d = parse_duration(*text);
  if (!d) return path_error(path, absl::StrCat(quoted(*text), " is not a duration (e.g. 5s, 500ms, 1m)"));
  return *d;
}

absl::StatusOr<int64_t> int_at(const YAML::Node& node, std::string_view path, int64_t min, int64_t max) {
  absl::StatusOr<std::string> text = scalar(node, path);
  if (!text.ok()) return text.status();
  auto v = parse_int(*text);
  if (!v || *v < min || *v > max)
    return path_error(path, absl::StrCat(quoted(*text), " is not an integer in [", min, ", ", max, "]"));
  return *v;
}

absl::StatusOr<bool> bool_at(const YAML::Node& node, std::string_view path) {
  absl::StatusOr<std::string> text = scalar(node, path);
  if (!text.ok()) return text.status();
  auto v = parse_bool(*text);
  if (!v) return path_error(path, absl::StrCat(quoted(*text), " is not a boolean"));
  return *v;
}


namespace {

// Same rule as components-contrib's ValidIdentifier: table names are spliced into SQL.
bool valid_identifier(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// "file:/path/x.db?_pragma=..." (Go-style) -> "/path/x.db".
std::string connection_string_path(std::string_view cs) {
  if (absl::StartsWithIgnoreCase(to_absl(cs), "file:")) cs.remove_prefix(5);
  if (size_t q = cs.find('?'); q != std::string_view::npos) cs = cs.substr(0, q);
  return std::string(cs);
}

absl::Status parse_sqlite(const YAML::Node& cfg, std::string_view base, SqliteOptions* out) {
  out->path = default_sqlite_path();
  out->path_is_default = true;
  if (!cfg) return absl::OkStatus();
  auto at = [&](const char* key) { return absl::StrCat(to_absl(base), ".", key); };
  for (const char* key : {"connectionString", "url"}) {
    if (YAML::Node n = cfg[key]) {
      absl::StatusOr<std::string> cs = scalar(n, at(key));
      if (!cs.ok()) return cs.status();
      std::string path = connection_string_path(*cs);
      if (path.empty()) return path_error(at(key), "names no database file");
      out->path = std::move(path);
      out->path_is_default = false;
    }
  }
  for (const char* key : {"tableName", "metadataTableName"}) {
    if (YAML::Node n = cfg[key]) {
      absl::StatusOr<std::string> name = scalar(n, at(key));
      if (!name.ok()) return name.status();
      if (!valid_identifier(*name))
        return path_error(at(key), absl::StrCat(quoted(*name), " is not a valid table name (letters, digits, _)"));
      (std::string_view(key) == "tableName" ? out->table_name : out->metadata_table_name) = *name;
    }
  }
  using std::chrono::duration_cast;
  if (YAML::Node n = cfg["updateInterval"]) {
    auto d = duration_at(n, at("updateInterval"));
    if (!d.ok()) return d.status();
    if (*d % std::chrono::seconds(1) != std::chrono::nanoseconds(0) || *d <= std::chrono::nanoseconds(0))
      return path_error(at("updateInterval"), "must be a whole number of seconds (SQLite stores seconds)");
    out->update_interval = duration_cast<std::chrono::seconds>(*d);
  }
  if (YAML::Node n = cfg["timeout"]) {
    auto d = duration_at(n, at("timeout"));
    if (!d.ok()) return d.status();
    if (*d < std::chrono::seconds(1)) return path_error(at("timeout"), "must be at least 1s");
    out->timeout = duration_cast<std::chrono::milliseconds>(*d);
  }
  if (YAML::Node n = cfg["cleanupInterval"]) {
    auto d = duration_at(n, at("cleanupInterval"));
    if (!d.ok()) return d.status();
    out->cleanup_interval = duration_cast<std::chrono::seconds>(*d);
  }
  if (YAML::Node n = cfg["busyTimeout"]) {
    auto d = duration_at(n, at("busyTimeout"));
    if (!d.ok()) return d.status();
    out->busy_timeout = duration_cast<std::chrono::milliseconds>(*d);
  }
  if (YAML::Node n = cfg["disableWAL"]) {
    auto b = bool_at(n, at("disableWAL"));
    if (!b.ok()) return b.status();
    out->disable_wal = *b;
  }
  if (out->update_interval - out->timeout < std::chrono::seconds(1))
    return path_error(at("updateInterval"), "must be at least 1s greater than timeout");
  return absl::OkStatus();
}

// "127.0.0.1:50002", "[::1]:50002" or "host.name:50002" (resolved by the control plane's DNS).
bool valid_static_address(std::string_view address) {
  std::string_view host;
  uint16_t port = 0;
  if (!snapshot::split_host_port(address, &host, &port)) return false;
  snapshot::SocketAddress literal;
  if (snapshot::parse_ip_literal(host, port, &literal)) return true;
  return host.find(':') == std::string_view::npos && host.find('%') == std::string_view::npos;
}

absl::StatusOr<std::vector<StaticApp>> parse_apps(const YAML::Node& apps, std::string_view base) {
  std::vector<StaticApp> out;
  if (!apps) return out;
  if (!apps.IsSequence()) return path_error(base, "must be a list");
  for (size_t i = 0; i < apps.size(); ++i) {
    const YAML::Node& e = apps[i];
    std::string at = absl::StrCat(to_absl(base), "[", i, "]");
    if (!e.IsMap()) return path_error(at, "must be a map with appId and address");
    StaticApp app;
    auto text = [&](const char* key, bool required, std::string* dst) -> absl::Status {
      YAML::Node n = e[key];
      if (!n) return required ? path_error(absl::StrCat(at, ".", key), "is required") : absl::OkStatus();
      absl::StatusOr<std::string> v = scalar(n, absl::StrCat(at, ".", key));
      if (!v.ok()) return v.status();
      if (required && v->empty()) return path_error(absl::StrCat(at, ".", key), "must not be empty");
      *dst = *v;
      return absl::OkStatus();
    };
    if (absl::Status s = text("appId", true, &app.app_id); !s.ok()) return s;
    if (absl::Status s = text("namespace", false, &app.app_namespace); !s.ok()) return s;
    if (app.app_namespace.empty()) app.app_namespace = "default";
    if (absl::Status s = text("address", true, &app.address); !s.ok()) return s;
    if (!valid_static_address(app.address))
      return path_error(absl::StrCat(at, ".address"),
                        absl::StrCat(quoted(app.address), " is not host:port (IPv4, [IPv6] or a host name)"));
    if (absl::Status s = text("cluster", false, &app.cluster); !s.ok()) return s;
    if (YAML::Node w = e["weight"]) {
      auto v = int_at(w, absl::StrCat(at, ".weight"), 0, 1000000);
      if (!v.ok()) return v.status();
      app.weight = static_cast<uint32_t>(*v);
    }
    out.push_back(std::move(app));
  }
  return out;
}

absl::Status parse_static(const YAML::Node& cfg, std::string_view base, StaticOptions* out) {
  if (cfg) {
    if (YAML::Node f = cfg["file"]) {
      absl::StatusOr<std::string> file = scalar(f, absl::StrCat(to_absl(base), ".file"));
      if (!file.ok()) return file.status();
      out->file = *file;
    }
    absl::StatusOr<std::vector<StaticApp>> apps = parse_apps(cfg["apps"], absl::StrCat(to_absl(base), ".apps"));
    if (!apps.ok()) return apps.status();
    out->apps = *std::move(apps);
  }
  if (out->file.empty() && out->apps.empty())
    return path_error(base, "the static resolver needs `file` or `apps`");
  return absl::OkStatus();
}

absl::StatusOr<Configuration> parse_document(const YAML::Node& root) {
  Configuration out;
  out.name_resolution.sqlite.path = default_sqlite_path();
  out.name_resolution.sqlite.path_is_default = true;
  if (!root || root.IsNull()) return out;
  if (!root.IsMap()) return path_error("(document)", "must be a map (a Dapr Configuration resource)");
  if (YAML::Node kind = root["kind"]) {
    if (!kind.IsScalar() || kind.Scalar() != "Configuration")
      return path_error("kind", absl::StrCat(quoted(kind.IsScalar() ? kind.Scalar() : "?"), " is not Configuration"));
  }
  if (YAML::Node api = root["apiVersion"]) {
    if (!api.IsScalar() || api.Scalar() != "dapr.io/v1alpha1")
      return path_error("apiVersion", absl::StrCat(quoted(api.IsScalar() ? api.Scalar() : "?"),
                                                   " is not dapr.io/v1alpha1"));
  }
  const YAML::Node spec = root["spec"];
  if (!spec) return out;
  if (!spec.IsMap()) return path_error("spec", "must be a map");

  if (const YAML::Node nr = spec["nameResolution"]) {
    if (!nr.IsMap()) return path_error("spec.nameResolution", "must be a map");
    NameResolution& r = out.name_resolution;
    if (YAML::Node c = nr["component"]) {
      absl::StatusOr<std::string> comp = scalar(c, "spec.nameResolution.component");
      if (!comp.ok()) return comp.status();
      r.component = absl::AsciiStrToLower(*comp);
      if (r.component.empty()) r.component = "sqlite";
    }
    if (YAML::Node v = nr["version"]) {
      absl::StatusOr<std::string> ver = scalar(v, "spec.nameResolution.version");
      if (!ver.ok()) return ver.status();
      if (!ver->empty()) r.version = *ver;
    }
    const YAML::Node cfg = nr["configuration"];
    constexpr std::string_view cfg_path = "spec.nameResolution.configuration";
    if (cfg && !cfg.IsMap() && !cfg.IsNull()) return path_error(cfg_path, "must be a map");
    if (cfg && cfg.IsMap()) r.configuration_yaml = YAML::Dump(cfg);
    if (r.component == "sqlite") {
      if (absl::Status s = parse_sqlite(cfg, cfg_path, &r.sqlite); !s.ok()) return s;
    } else if (r.component == "static") {
      if (absl::Status s = parse_static(cfg, cfg_path, &r.static_options); !s.ok()) return s;
    } else if (!is_known_resolver(r.component)) {
      return path_error("spec.nameResolution.component",
                        absl::StrCat(quoted(r.component), " is not supported by ringside (",
                                     known_resolvers_text(), ")"));
    }
  }
  if (absl::Status s = parse_access_control(spec["accessControl"], "spec.accessControl", &out.access_control);
      !s.ok())
    return s;
  const YAML::Node ringside_node = spec["ringside"];
  if (ringside_node && !ringside_node.IsMap()) return path_error("spec.ringside", "must be a map");
  if (absl::Status s = parse_mtls(spec["mtls"], ringside_node ? ringside_node["mtls"] : YAML::Node(), &out.mtls); !s.ok())
    return s;
  if (const YAML::Node rs = ringside_node) {
    if (absl::Status s = parse_dataplane(rs["dataplane"], "spec.ringside.dataplane", &out.dataplane); !s.ok()) return s;
    if (absl::Status s = parse_load_balancing(rs["loadBalancing"], "spec.ringside.loadBalancing", &out.load_balancing);
        !s.ok())
      return s;
    if (absl::Status s = parse_multi_cluster(rs["multiCluster"], "spec.ringside.multiCluster", &out.multi_cluster);
        !s.ok())
      return s;
  }
  return out;
}

std::string yaml_error_text(const YAML::Exception& e) {
  if (e.mark.is_null()) return e.msg;
  return absl::StrCat("line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg);
}

}  // namespace

std::string default_sqlite_path() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
  };
  if (std::string p = env("RINGSIDE_NR_SQLITE"); !p.empty()) return p;
  if (std::string state = env("XDG_STATE_HOME"); !state.empty()) return state + "/ringside/nameresolution.db";
  std::string home = env("HOME");
  if (home.empty()) home = "/tmp";
  return home + "/.local/state/ringside/nameresolution.db";
}

absl::StatusOr<Configuration> parse_configuration(std::string_view yaml_text) {
  // yaml-cpp reports errors with exceptions; they stop here (control plane, start-up only).
  try {
    return parse_document(YAML::Load(std::string(yaml_text)));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", yaml_error_text(e)));
  }
}

absl::StatusOr<Configuration> load_configuration(const std::string& path) {
  if (path.empty()) return parse_configuration("");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--config: cannot read ", quoted(path)));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Configuration> cfg = parse_configuration(text.str());
  if (!cfg.ok()) return absl::Status(cfg.status().code(), absl::StrCat(path, ": ", cfg.status().message()));
  return cfg;
}

absl::StatusOr<std::vector<StaticApp>> parse_static_apps(std::string_view yaml_text) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root || root.IsNull()) return std::vector<StaticApp>();
    if (!root.IsMap()) return path_error("(document)", "must be a map with an `apps` list");
    return parse_apps(root["apps"], "apps");
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", yaml_error_text(e)));
  }
}

}  // namespace ringside::config
