// ControlPlane: owns the resolver and feeds the SnapshotRegistry. Runs on its own std::thread
// (never on a shard): heartbeats the registration, lists instances every refresh interval
// (or sooner when a shard asks), publishes a new InstanceTable only when the contents
// changed, and reclaims tables the shards no longer reference.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "controlplane/resolvers/resolver.h"
#include "controlplane/snapshot/snapshot_registry.h"

namespace ringside {

class ControlPlane {
 public:
  ControlPlane(std::unique_ptr<resolvers::Resolver> resolver, snapshot::SnapshotRegistry* registry,
               std::chrono::milliseconds refresh_interval = std::chrono::milliseconds(500));
  ~ControlPlane();  // stop()

  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Registers synchronously (start-up errors -> exit 1 with the message), publishes the first
  // table, then starts the thread.
  absl::Status start(const resolvers::SelfRegistration& self);

  // Async nudge from any thread (e.g. a shard saw a connect failure): lock-free; at most one
  // eventfd write until the control thread has picked the request up.
  void request_refresh();

  // Stops the thread and deregisters. Idempotent.
  void stop();

  // Tables published since construction (for tests and metrics).
  uint64_t tables_published() const { return tables_published_.load(std::memory_order_relaxed); }

 private:
  void run();
  absl::Status refresh();
  void log_error(std::string_view what, const absl::Status& status);

  std::unique_ptr<resolvers::Resolver> resolver_;  // the backend; used by the control thread only after start()
  snapshot::SnapshotRegistry* registry_;           // where tables are published (not owned)
  std::chrono::milliseconds refresh_interval_;     // list() period
  int wake_fd_ = -1;                               // eventfd: request_refresh()/stop() wake the thread
  std::atomic<bool> refresh_requested_{false};     // set by request_refresh(), cleared by the thread
  std::atomic<bool> stopping_{false};              // set by stop()
  std::atomic<uint64_t> tables_published_{0};      // see tables_published()
  uint64_t next_version_ = 1;                      // version of the next table built
  bool started_ = false;                           // start() succeeded and stop() not yet done
  std::string last_error_;                         // last logged error, to log changes only
  std::thread thread_;                             // the control-plane thread
};

}  // namespace ringside
