// The issue-9 test topology on top of ClusterLab: three clusters of two hosts, each host running
// an echo app named "<cluster>-h<n>" behind a ringsided with app id `b`; callers (app id `a`,
// plus one per extra strategy) on host 1 of a cluster; a registry per cluster (east and west: a
// real etcd on host 1; south: one SQLite file shared by its two hosts, as hosts sharing a
// filesystem would) and, with synchronizers on, a ringside-sync per cluster on host 1 peered
// with the other two. Every port is fixed: each host namespace has its own port space.
//
// Every wait is bounded; processes are stopped by pid (ChildProcess), the namespaces removed by
// the lab, also when a test fails half-way.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/multicluster/cluster_lab.h"

namespace ringside::multicluster_test {

// Short TTLs keep failover tests quick.
inline constexpr int kEtcdLeaseTtlSeconds = 2;        // east and west registries (etcd's minimum)
inline constexpr int kSqliteUpdateIntervalSeconds = 3;  // south registry (row TTL)
inline constexpr int kSyncHeartbeatMs = 500;           // ringside-sync export heartbeat
inline constexpr int kSyncExportTtlMs = 2000;          // a silent peer's instances expire after this

// Fixed ports inside every host namespace.
inline constexpr uint16_t kAppPort = 8080;         // the echo app
inline constexpr uint16_t kEtcdClientPort = 2379;  // etcd on host 1 of east and west
inline constexpr uint16_t kSyncPort = 50070;       // ringside-sync's gRPC port on host 1
inline constexpr uint16_t kSyncMetricsPort = 9170; // its /healthz and /metrics

// A caller sidecar: app id and the cluster strategy its Configuration gives app `b`.
struct CallerSpec {
  std::string cluster;   // where it runs (host 1)
  std::string app_id;    // its app id ("a" for the default caller)
  std::string strategy;  // spec.ringside.multiCluster.strategy ("local-first", ...)
};

// One running ringsided (a `b` in front of an app, or a caller).
struct RunningSidecar {
  std::string cluster;                        // its cluster
  int host = 1;                               // 1 or 2
  std::string app_id;                         // --app-id
  e2e::SidecarPorts ports;                    // fixed ports in its namespace
  std::unique_ptr<e2e::ChildProcess> process; // null once killed
};

// Which instances answered a series of calls.
struct CallTally {
  std::map<std::string, int> answered_by;  // echo app name ("east-h1") -> calls it answered
  int calls = 0;                           // calls made
  int failures = 0;                        // calls without a 200 from an app
  std::vector<std::string> failure_samples;  // the first few failures, for messages
  std::map<std::string, std::string> headers;  // response headers of the last successful call
                                               // (names lower-cased)
  // Per call, in order: when it ended and who answered ("" = failed).
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> timeline;

  int answered_in(const std::string& cluster) const;  // calls answered by that cluster's apps
  std::string Describe() const;                     // "east-h1: 12, west-h2: 8, failed: 0"
};

struct ThreeClustersOptions {
  bool synchronizers = true;         // a ringside-sync per cluster; sidecars subscribe to theirs
  std::vector<CallerSpec> callers;   // callers to start (default: `a`, local-first, per cluster)
};

class ThreeClusters {
 public:
  ThreeClusters() = default;
  ~ThreeClusters();  // stops every process before the lab removes the namespaces
  ThreeClusters(const ThreeClusters&) = delete;
  ThreeClusters& operator=(const ThreeClusters&) = delete;

  // Builds the lab and starts everything; returns once every sidecar is healthy and every
  // caller reaches `b` (bounded). Errors carry the logs of whatever did not come up.
  absl::Status Start(const ThreeClustersOptions& options);

  const ClusterLab& lab() const { return *lab_; }
  const e2e::TempDir& dir() const { return dir_; }
  // The caller with that app id in that cluster (must exist).
  RunningSidecar& caller(const std::string& cluster, const std::string& app_id = "a");
  RunningSidecar& b(const std::string& cluster, int host);

  // `n` calls POST <target>/<path> through `caller` (fresh connection each, 5 s bound each).
  CallTally Call(const RunningSidecar& caller, int n, const std::string& path = "whoami",
                 const std::string& target = "b");
  // Calls like Call() until `stop` is set (from another thread; at most `limit` calls), with
  // the time of every call's end, for failover timing.
  CallTally CallUntil(const RunningSidecar& caller, const std::atomic<bool>& stop, int limit = 100000);
  // Requests answered so far by the echo app of (cluster, host), or -1 if it cannot be asked.
  int AppServed(const std::string& cluster, int host);

  // SIGKILLs the `b` sidecar of (cluster, host) (its app stays: the instance is unreachable,
  // as after a crash of the sidecar or its host).
  void KillB(const std::string& cluster, int host);
  // SIGKILLs every process of `cluster`: sidecars, apps, its synchronizer and its registry.
  void KillCluster(const std::string& cluster);
  // Kills and restarts the synchronizer of `cluster` (same config and port).
  absl::Status RestartSync(const std::string& cluster);
  // Starts one more `b` sidecar on host `host` of `cluster` with app id `app_id` (for the
  // registration-visibility figure); returns when it is healthy.
  absl::Status StartExtraSidecar(const std::string& cluster, int host, const std::string& app_id);

  // Registrations of `app_id` in the etcd of `cluster` (east or west), -1 if etcd cannot be read.
  int EtcdRegistrations(const std::string& cluster, const std::string& app_id);
  // A metric of the synchronizer of `cluster`: the sum of the samples of `name` whose labels
  // contain `label` (e.g. `cluster="west"`; "" = all), 0 when there is none; nullopt when the
  // synchronizer does not answer.
  std::optional<double> SyncMetric(const std::string& cluster, const std::string& name, const std::string& label = "");
  // A metric of a sidecar (as e2e::ReadMetric: the process total).
  std::optional<double> SidecarMetric(const RunningSidecar& sidecar, const std::string& name);

  // Tails of every log (sidecars, apps, registries, synchronizers), for failure messages.
  std::string Logs() const;

 private:
  absl::Status StartRegistry(const std::string& cluster);
  absl::Status StartSync(const std::string& cluster);
  absl::Status StartApp(const std::string& cluster, int host);
  absl::StatusOr<RunningSidecar> StartSidecar(const std::string& cluster, int host, const std::string& app_id,
                                              const std::string& strategy, bool with_app, e2e::SidecarPorts ports);
  // Writes (once) and returns the Configuration of a sidecar in `cluster` whose strategy is
  // `strategy`.
  std::string SidecarConfig(const std::string& cluster, const std::string& strategy);
  std::string SyncConfig(const std::string& cluster);

  e2e::TempDir dir_;                                  // configs, logs, the south registry file
  std::unique_ptr<ClusterLab> lab_;                   // the namespaces
  bool synchronizers_ = true;                         // options.synchronizers
  std::map<std::string, std::unique_ptr<e2e::ChildProcess>> registries_;  // cluster -> etcd
  std::map<std::string, std::unique_ptr<e2e::ChildProcess>> syncs_;       // cluster -> ringside-sync
  std::vector<std::unique_ptr<e2e::ChildProcess>> apps_;  // echo apps, index = host index
  std::vector<RunningSidecar> bs_;                    // the six `b` sidecars
  std::vector<RunningSidecar> callers_;               // callers
  std::vector<RunningSidecar> extras_;                // sidecars started by StartExtraSidecar
  int next_caller_slot_ = 0;                          // port offset of the next caller
};

// Index of (cluster, host) in the lab's fixed order: east1 = 0 ... south2 = 5.
int HostIndex(const std::string& cluster, int host);
// "east-h1": the echo app's name there.
std::string AppName(const std::string& cluster, int host);
// Polls `pred` every 20 ms until it holds or `timeout` passes; returns the time it took.
std::optional<std::chrono::milliseconds> WaitUntil(const std::function<bool()>& pred,
                                                   std::chrono::milliseconds timeout);

}  // namespace ringside::multicluster_test
