// SyncState: everything the synchronizer's threads share, behind one mutex.
// - the own cluster's table as the registry reader last saw it (exporters wait on its version);
// - the peer clusters' imported tables (imported_clusters.h) and, derived from them, the one
//   versioned table subscribers receive (epoch per process start, version grows by one per
//   change);
// - the subscribers: each has a bounded queue of DELTAs; overflowing it drops the backlog and
//   owes the subscriber a fresh FULL instead;
// - the counters /metrics shows.
// Time is passed in (TimePoint) wherever the TTL matters, so tests inject their own clock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controlplane/sync/imported_clusters.h"
#include "controlplane/sync/table_delta.h"

namespace ringside::sync {

struct SubscriberLimits {
  size_t max_subscribers = 1024;  // further Subscribe calls are refused (RESOURCE_EXHAUSTED)
  size_t queue_updates = 64;      // DELTAs queued per subscriber before it is owed a FULL instead
};

// One subscribed sidecar; owned jointly by its Subscribe call and the state.
struct Subscriber {
  std::string app_id;                  // for logs
  std::deque<v1::TableUpdate> queue;   // DELTAs not yet written, oldest first
  bool needs_full = true;              // next write is a FULL (first one, or fell behind)
};

class SyncState {
 public:
  SyncState(std::string own_cluster, std::string epoch, std::chrono::milliseconds export_ttl,
            SubscriberLimits limits);

  const std::string& own_cluster() const { return own_cluster_; }
  const std::string& epoch() const { return epoch_; }

  // ---- own cluster: registry reader -> exporters ----
  // The registry's complete view; every instance is tagged with the own cluster name.
  void set_local(std::vector<v1::Instance> instances);
  struct LocalTable {
    uint64_t version = 0;                 // grows on every change (0 = registry not read yet)
    std::vector<v1::Instance> instances;  // the own cluster's instances
  };
  LocalTable local() const;
  // Blocks until the local version differs from `known`, `deadline` passes or shutdown().
  void wait_local_change(uint64_t known, TimePoint deadline);
  void set_registry_error(bool failing);  // the registry could not be read (for /healthz)

  // Start-up warm-up: no subscriber gets a FULL until every peer in `peers` exported once or
  // `until` passed, so a restarted synchronizer never tells its sidecars that the other
  // clusters are empty while the peers are still reconnecting.
  void begin_warmup(std::set<std::string> peers, TimePoint until);
  bool warming() const;

  // ---- imports: Export streams from peers ----
  uint64_t import_open(const std::string& cluster, TimePoint now);
  bool import_apply(const std::string& cluster, uint64_t stream, const v1::ExportRequest& request, TimePoint now);
  void import_close(const std::string& cluster, uint64_t stream, TimePoint now);
  void expire(TimePoint now);  // called periodically: drops peers past the export TTL

  // ---- subscribers ----
  // Null when max_subscribers are already subscribed.
  std::shared_ptr<Subscriber> subscribe(std::string app_id);
  void unsubscribe(const std::shared_ptr<Subscriber>& subscriber);
  // The subscriber's next update (a FULL when owed one), or nullopt at the deadline / shutdown.
  std::optional<v1::TableUpdate> next_update(Subscriber* subscriber, TimePoint deadline);

  // ---- exports: counters and state for /metrics ----
  void export_connected(const std::string& peer, bool connected);
  void export_sent(const std::string& peer);

  uint64_t version() const;
  Table published() const;  // the table subscribers get (tests, metrics)
  std::string metrics_text() const;
  bool healthy() const;     // registry read at least once and not failing now

  // Wakes every waiter; later waits return at once.
  void shutdown();
  bool stopping() const;

 private:
  // Recomputes the published table from the imports; queues the DELTA when it changed.
  void republish_locked();
  v1::TableUpdate full_locked() const;

  const std::string own_cluster_;       // our cluster name
  const std::string epoch_;             // random per process start
  const SubscriberLimits limits_;       // subscriber bounds

  mutable std::mutex mu_;               // guards everything below
  std::condition_variable changed_;     // local table, subscriber queues or stopping changed
  bool stopping_ = false;               // shutdown() was called
  Table local_;                         // own cluster's instances
  uint64_t local_version_ = 0;          // version of local_
  bool registry_failing_ = false;       // last registry read failed
  ImportedClusters imports_;            // peer clusters' tables
  Table published_;                     // union of imports_ as subscribers know it
  uint64_t version_ = 1;                // version of published_
  std::vector<std::shared_ptr<Subscriber>> subscribers_;  // current subscribers
  std::map<std::string, bool> export_connected_;          // peer cluster -> our Export stream is up
  std::map<std::string, uint64_t> exports_sent_;          // peer cluster -> ExportRequests sent
  std::map<std::string, uint64_t> exports_received_;      // peer cluster -> ExportRequests applied
  bool warming_ = false;                // begin_warmup() and not yet warm
  std::set<std::string> awaited_peers_; // peers that have not exported since start
  TimePoint warm_until_{};              // warm-up ends at the latest here
  uint64_t fulls_for_lag_ = 0;          // FULLs sent because a subscriber's queue overflowed
  uint64_t subscribers_refused_ = 0;    // Subscribe calls refused at max_subscribers
};

}  // namespace ringside::sync
