// ringside-sync's configuration: the YAML file given with --config and the flags that override
// its basics. Documented in docs/ringside-sync.md:
//
//   cluster: east                       # our cluster name (required)
//   listen: 0.0.0.0:50070               # gRPC address of Export (peers) and Subscribe (sidecars)
//   metricsPort: 9091                   # /metrics and /healthz (0 = any free port; -1 = off)
//   nameResolution:                     # the own cluster's registry, as in a Dapr Configuration
//     component: etcd                   #   sqlite, static or etcd
//     configuration: {endpoints: ["127.0.0.1:2379"]}
//   registryRefreshInterval: 1s         # how often listing registries (sqlite, static) are read
//   peers:                              # the clusters we exchange instances with
//     - cluster: west
//       addresses: ["203.0.113.10:50070"]   # that cluster's synchronizers, tried in turn
//       token: s3cret                   # shared by both directions; or tokenFile
//   subscriberToken: t0ken              # sidecars of our cluster must send it; or subscriberTokenFile
//   heartbeatInterval: 2s               # Export heartbeat
//   exportTtl: 6s                       # a silent peer's instances expire after this (3x heartbeat)
//   maxSubscribers: 1024
//   subscriberQueue: 64                 # DELTAs queued per subscriber before it gets a FULL instead
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/config/configuration.h"

namespace ringside::sync {

struct PeerConfig {
  std::string cluster;                 // the peer's cluster name
  std::vector<std::string> addresses;  // host:port of its synchronizers, tried in turn
  std::string token;                   // shared bearer token (we send it; it must send it)
};

struct SyncConfig {
  std::string cluster;                                // our cluster name
  std::string listen = "0.0.0.0:50070";               // gRPC listen address
  int metrics_port = 9091;                            // -1 = no metrics server
  std::string metrics_address = "0.0.0.0";            // where /metrics binds (the listen host)
  config::NameResolution registry;                    // the own cluster's registry
  std::chrono::milliseconds registry_refresh{1000};  // listing resolvers: read period
  std::vector<PeerConfig> peers;                      // clusters we exchange instances with
  std::string subscriber_token;                       // "" = sidecars need no token
  std::chrono::milliseconds heartbeat{2000};          // Export heartbeat
  std::chrono::milliseconds export_ttl{6000};         // imported instances' TTL
  bool export_ttl_set = false;                        // exportTtl given (else 3x heartbeat)
  size_t max_subscribers = 1024;                      // bound on Subscribe calls
  size_t subscriber_queue = 64;                       // per-subscriber DELTA queue
  std::string log_level = "info";                     // debug|info|warn|error
};

// Parses the YAML text of a --config file. Errors name the key path ("peers[1].token: ...").
absl::StatusOr<SyncConfig> parse_sync_config(std::string_view yaml_text);

// What the command line asked for.
struct SyncCommand {
  bool help = false;     // --help: print usage, exit 0
  bool version = false;  // --version
  SyncConfig config;     // the file with flag overrides applied and checked
};

// Parses argv (reads --config when given). Errors name the flag or the config path; exit 2.
absl::StatusOr<SyncCommand> parse_sync_command(int argc, const char* const* argv);

std::string sync_usage();

}  // namespace ringside::sync
