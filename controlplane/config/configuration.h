// The Dapr `Configuration` resource (apiVersion dapr.io/v1alpha1) as far as ringside uses it:
// spec.nameResolution (component, version, configuration) and ringside's own section
// spec.ringside.dataplane. Parsed with yaml-cpp on the main thread at start-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/config/mtls_config.h"
#include "controlplane/config/access_control_config.h"
#include "controlplane/config/dataplane_config.h"
#include "controlplane/config/multi_cluster_config.h"
#include "controlplane/config/options.h"
#include "controlplane/snapshot/load_balancing.h"

namespace ringside::config {

// Options of the sqlite resolver (spec §7.3), defaults as in components-contrib.
struct SqliteOptions {
  std::string path;                             // database file (connectionString without "file:" and "?query")
  bool path_is_default = false;                 // true when no connectionString was given (we create its directory)
  std::chrono::seconds update_interval{5};      // updateInterval: rows older than this are ignored (whole seconds)
  std::chrono::milliseconds timeout{1000};      // timeout: bound on one query
  std::string table_name = "hosts";             // tableName
  std::string metadata_table_name = "metadata";  // metadataTableName: migrations + last cleanup
  std::chrono::seconds cleanup_interval{3600};  // cleanupInterval: expired-row GC period; 0 = off
  std::chrono::milliseconds busy_timeout{800};  // busyTimeout: SQLite busy handler wait
  bool disable_wal = false;                     // disableWAL: use the DELETE journal instead of WAL
};

// One instance listed by the static resolver.
struct StaticApp {
  std::string app_id;                       // appId (required)
  std::string app_namespace = "default";    // namespace
  std::string address;                      // host:port of the peer's internal gRPC port (IPv4 literal or localhost)
  std::string cluster;                      // cluster tag for cluster strategies; "" = local
  uint32_t weight = 1;                      // load-balancing weight
};

// Options of the static resolver.
struct StaticOptions {
  std::string file;              // YAML file with `apps:`, re-read when its mtime changes; "" = none
  std::vector<StaticApp> apps;   // instances given inline under configuration.apps
};

// spec.nameResolution.
struct NameResolution {
  std::string component = "sqlite";  // sqlite (default), static, mdns, kubernetes, nameformat, consul, etcd
  std::string version = "v1";        // resolver version (informational)
  std::string configuration_yaml;    // spec.nameResolution.configuration as YAML text ("" = none);
                                     // resolvers other than sqlite/static parse it themselves
  SqliteOptions sqlite;              // used when component == "sqlite"
  StaticOptions static_options;      // used when component == "static"
};

struct Configuration {
  NameResolution name_resolution;  // spec.nameResolution
  DataplaneConfig dataplane;       // spec.ringside.dataplane (dataplane_config.h)
  snapshot::LoadBalancing load_balancing;  // spec.ringside.loadBalancing (load_balancing_config.h)
  MultiCluster multi_cluster;              // spec.ringside.multiCluster (multi_cluster_config.h)
  AccessControl access_control;            // spec.accessControl (access_control_config.h)
  MtlsConfig mtls;                         // spec.mtls + spec.ringside.mtls (mtls_config.h)
};

// Parses a Configuration document. Errors name the YAML path, e.g.
// `spec.nameResolution.configuration.updateInterval: "abc" is not a duration`.
absl::StatusOr<Configuration> parse_configuration(std::string_view yaml_text);

// Reads and parses a file; an empty path yields the defaults (sqlite at the default path).
absl::StatusOr<Configuration> load_configuration(const std::string& path);

// Parses a static resolver file (`apps:` list). Errors name the path ("apps[1].address: ...").
absl::StatusOr<std::vector<StaticApp>> parse_static_apps(std::string_view yaml_text);

// Default SQLite name-resolution file: $RINGSIDE_NR_SQLITE if set, else
// $XDG_STATE_HOME/ringside/nameresolution.db, else $HOME/.local/state/ringside/nameresolution.db.
std::string default_sqlite_path();

}  // namespace ringside::config
