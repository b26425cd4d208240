// SyncSubscriber: the sidecar's external resolver. On a thread of its own (control plane, never
// a shard) it subscribes to ringside.sync.v1.Synchronizer/Subscribe on the configured
// synchronizers in turn (the next address after a failure), keeps an ExternalTable from the
// stream and delivers the complete external instance list after every change.
//
// When the stream is lost the last table is kept (the sidecar keeps serving the other clusters'
// instances it knew) and the subscriber resubscribes with a capped, jittered back-off. It logs
// one line per state change (connected, lost, cannot subscribe), never one per retry.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
// The etcd resolver's stoppable sleep, back-off and cancellable stream fit as they are.
#include "controlplane/resolvers/active_stream.h"
#include "controlplane/resolvers/stop_signal.h"
#include "controlplane/resolvers/external/external_table.h"
#include "controlplane/snapshot/instance.h"
#include "ringside/sync/v1/sync.grpc.pb.h"

namespace ringside::resolvers::external {

struct SubscriberOptions {
  std::vector<std::string> synchronizers;           // host:port of ringside-sync, tried in turn
  std::string token;                                // sent as `authorization: Bearer <token>` ("" = none)
  std::string cluster;                              // our cluster (the synchronizer's own)
  std::string app_id;                               // our app id (the synchronizer's logs and metrics)
  std::chrono::milliseconds max_backoff{5000};      // cap of the resubscribe back-off (starts at 100 ms)
  std::chrono::milliseconds connect_timeout{2000};  // one connection attempt to a synchronizer
  // A restarted synchronizer (new epoch) may not have heard from every peer yet: instances of
  // clusters its first table lacks are kept this long (ExternalTable). Like its exportTtl.
  std::chrono::milliseconds carry_over{10000};
};

class SyncSubscriber {
 public:
  // Receives the complete external instance list after each change (subscriber thread).
  using Deliver = std::function<void(std::vector<snapshot::Instance>)>;
  // Receives each state-change line (default: stderr with the "ringside: " prefix).
  using Log = std::function<void(const std::string&)>;

  SyncSubscriber(SubscriberOptions options, Deliver deliver, Log log = nullptr);
  ~SyncSubscriber();  // stop()

  SyncSubscriber(const SyncSubscriber&) = delete;
  SyncSubscriber& operator=(const SyncSubscriber&) = delete;

  // Starts the thread. Error when no synchronizer is configured.
  absl::Status start();
  // Cancels the open stream and joins the thread. Idempotent; safe without start().
  void stop();

  // For metrics and tests (any thread).
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  uint64_t updates_received() const { return updates_.load(std::memory_order_relaxed); }
  uint64_t external_instances() const { return instances_.load(std::memory_order_relaxed); }
  uint64_t subscriptions() const { return subscriptions_.load(std::memory_order_relaxed); }

 private:
  void run();
  // Drops carried-over instances when their grace ends (a thread of its own: the subscriber
  // thread sits in a blocking Read).
  void expire_carried();
  // One subscription to synchronizer `index`, until the stream ends; the reason it ended.
  // *out_of_step: we ended it because an update did not fit the table (ask the same one again).
  absl::Status subscribe_once(size_t index, bool* out_of_step);
  // Hands the table's complete list to the control plane (table_mu_ held: lists arrive in order).
  void deliver_locked(const std::string& source);
  void log(const std::string& line) const;

  SubscriberOptions options_;                             // addresses, token, identity, back-off
  std::vector<std::shared_ptr<grpc::Channel>> channels_;  // one per synchronizer, replaced after a failure
  Deliver deliver_;                                       // to the control plane
  Log log_;                                               // state-change lines
  StopSignal stop_signal_;                          // ends the back-off sleeps
  ActiveStream active_{&stop_signal_};              // the open stream, cancelled by stop()
  std::atomic<bool> connected_{false};                    // a stream is open and has sent its FULL
  std::atomic<uint64_t> updates_{0};                      // TableUpdates received (all streams)
  std::atomic<uint64_t> instances_{0};                    // external instances last delivered
  std::atomic<uint64_t> subscriptions_{0};                // streams that delivered a first update
  std::mutex table_mu_;                                    // guards table_ (subscriber and expiry threads)
  ExternalTable table_;                                   // the other clusters' instances
  std::thread thread_;                                    // the subscriber thread
  std::thread expiry_thread_;                             // expire_carried()
};

}  // namespace ringside::resolvers::external
