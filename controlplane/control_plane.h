// ControlPlane: owns the resolver and feeds the SnapshotRegistry. Runs on its own std::thread
// (never on a shard). It
// - lists listing resolvers every refresh interval and collects what pushing resolvers report
//   through the InstanceSink (any thread);
// - answers the shards' lookup requests for app ids the table lacks: listing resolvers are
//   listed again, pushing resolvers get lookup(); an app id still unknown afterwards is
//   published as "looked up, none found" for negative_ttl, so parked calls fail at once;
// - merges the other clusters' instances (publish_external, from the synchronizer subscription)
//   into the same table as the local resolver's, every instance tagged with its cluster, so a
//   shard sees both sources in one consistent snapshot;
// - binds instances whose address is a host name to the addresses a dns::HostResolver returns;
// - publishes a new InstanceTable only when the contents changed (which wakes every shard) and
//   reclaims tables the shards no longer reference.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "controlplane/dns/host_resolver.h"
#include "controlplane/resolvers/resolver.h"
#include "controlplane/snapshot/cluster_strategy.h"
#include "controlplane/snapshot/snapshot_registry.h"

namespace ringside {

struct ControlPlaneOptions {
  std::chrono::milliseconds refresh_interval{500};  // listing resolvers are listed this often
  std::chrono::milliseconds negative_ttl{1000};     // how long "none found" answers stay published
  std::chrono::milliseconds lookup_timeout{2000};   // a pushing resolver's lookup unanswered this long counts as none found
  dns::HostResolver* host_resolver = nullptr;       // binds host-name addresses (not owned; nullptr = drop them, logged)
  snapshot::LoadBalancing load_balancing;           // per-app policies built into every table (spec.ringside.loadBalancing)
  snapshot::ClusterSettings clusters;               // own cluster and strategies built into every table (spec.ringside.multiCluster)
  // A synchronizer subscription will call publish_external. Until its first list arrives, the
  // local resolver's "none found" is held back (up to lookup_timeout from the lookup) so a call
  // to an app id only other clusters have does not fail while the sidecar is starting.
  bool await_external = false;                      // see above (sidecars with synchronizers)
};

class ControlPlane final : public resolvers::InstanceSink {
 public:
  ControlPlane(std::unique_ptr<resolvers::Resolver> resolver, snapshot::SnapshotRegistry* registry,
               ControlPlaneOptions options = {});
  ~ControlPlane() override;  // stop()

  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Registers synchronously (start-up errors -> exit 1 with the message), publishes the first
  // table, then starts the thread.
  absl::Status start(const resolvers::SelfRegistration& self);

  // Async nudge from any thread: list again soon. Lock-free; at most one eventfd write until
  // the control thread has picked the request up.
  void request_refresh();

  // Stops the thread and deregisters. Idempotent.
  void stop();

  // Issue 10, app health: whether our registration should be listed (false while our app is
  // unhealthy). Any thread, cheap; the control thread applies the latest wish through
  // Resolver::set_serving (retried on the next turn when the registry refuses).
  void set_serving(bool serving);

  // Tables published since construction (for tests and metrics).
  uint64_t tables_published() const { return tables_published_.load(std::memory_order_relaxed); }
  // Lookup requests received from shards (for tests and metrics).
  uint64_t lookups_requested() const { return lookups_requested_.load(std::memory_order_relaxed); }

  // resolvers::InstanceSink (any thread)
  void publish_all(std::vector<snapshot::Instance> instances) override;
  void publish_app(std::string app_id, std::string ns, std::vector<snapshot::Instance> instances) override;
  void report_status(const absl::Status& status) override;

  // The other clusters' instances (the external resolver's complete list), replacing the last
  // one; merged into every table with the local resolver's. Instances tagged with our own
  // cluster are dropped: the local registry is the truth for them. Thread-safe, cheap.
  void publish_external(std::vector<snapshot::Instance> instances);
  // External instances in the last list received (for tests and metrics).
  uint64_t external_instances() const { return external_count_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  // (app id, namespace) with the namespace cleared when the resolver ignores namespaces.
  struct AppKey {
    std::string app_id;         // app id
    std::string app_namespace;  // namespace ("" = any)
    friend bool operator==(const AppKey&, const AppKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const AppKey& k) {
      return H::combine(std::move(h), k.app_id, k.app_namespace);
    }
  };

  void run();
  void wake();
  absl::Status refresh_listing();
  void take_lookup_requests(Clock::time_point now);
  void expire(Clock::time_point now);
  // Builds a table from what the resolver reported and publishes it when it differs.
  void rebuild();
  std::vector<snapshot::Instance> bind_host_names(std::vector<snapshot::Instance> instances);
  AppKey key_of(std::string_view app_id, std::string_view ns) const;
  // Whether the external list has an instance for key (mu_ held).
  bool known_externally(const AppKey& key) const;
  // The local resolver found no instance for key, asked at `since` (mu_ held): published as
  // absent, or held back while the first external list is awaited.
  void none_found(const AppKey& key, Clock::time_point since, Clock::time_point now);
  void log_status(std::string_view what, const absl::Status& status);
  // Issue 10: tells the resolver about a changed serving wish (control thread).
  void apply_serving();

  std::unique_ptr<resolvers::Resolver> resolver_;  // the backend
  snapshot::SnapshotRegistry* registry_;           // where tables are published (not owned)
  ControlPlaneOptions options_;                    // intervals and the host resolver
  const bool namespace_aware_;                     // the resolver's namespace awareness
  const bool lists_;                               // listing resolver (polled) vs pushing
  int wake_fd_ = -1;                               // eventfd: sink calls, lookups, refresh requests, stop()
  std::atomic<bool> refresh_requested_{false};     // set by request_refresh(), cleared by the thread
  std::atomic<bool> stopping_{false};              // set by stop()
  std::atomic<bool> serving_wanted_{true};         // issue 10: set_serving()'s latest wish
  bool serving_applied_ = true;                    // issue 10: what the resolver was last told (control thread)
  std::atomic<uint64_t> tables_published_{0};      // see tables_published()
  std::atomic<uint64_t> lookups_requested_{0};     // see lookups_requested()
  std::atomic<uint64_t> external_count_{0};        // see external_instances()
  uint64_t next_version_ = 1;                      // version of the next table built
  bool started_ = false;                           // start() succeeded and stop() not yet done
  std::thread thread_;                             // the control-plane thread
  // Closed by the destructor so a late DNS answer never reaches a destroyed control plane.
  struct Gate {
    std::mutex mu;     // held while a callback runs and while closing
    bool open = true;  // false once we are being destroyed
  };
  std::shared_ptr<Gate> dns_gate_ = std::make_shared<Gate>();

  // What the resolver reported; written by sink calls (any thread) and the control thread.
  std::mutex mu_;
  std::vector<snapshot::Instance> all_;                                    // listing or publish_all
  absl::flat_hash_map<AppKey, std::vector<snapshot::Instance>> per_app_;   // publish_app, non-empty
  std::vector<snapshot::Instance> external_;                               // publish_external, other clusters only
  std::string own_namespace_;                                              // ours (start()): external instances without one get it
  bool external_received_ = false;                                         // publish_external was called once
  absl::flat_hash_map<AppKey, Clock::time_point> held_;                    // none found locally, awaiting the external list; asked since
  absl::flat_hash_map<AppKey, Clock::time_point> absent_;                  // none found, until then
  absl::flat_hash_map<AppKey, Clock::time_point> pending_;                 // lookups asked, since then
  bool dirty_ = true;                                                      // rebuild needed
  std::string last_logged_;                                                // last status text logged
};

}  // namespace ringside
