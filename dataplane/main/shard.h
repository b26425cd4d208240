#pragma once
// Shard: one data-plane thread (pinned to a CPU when configured) that owns an io_uring, its
// SO_REUSEPORT listeners, every connection it accepts or dials, its buffer pools, timers and
// counters. Nothing on its request path is shared with another thread; the instance table
// arrives through the snapshot registry (acquire loads, quiescent-state reclamation).
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/io/ring.h"
#include "dataplane/runtime/accept_balancer.h"
#include "dataplane/runtime/shard_counters.h"

namespace ringside::shard {

struct ShardSetup {
  int index = 0;                  // 0..shards-1
  int cpu = -1;                   // pin to this CPU; -1 = leave unpinned
  io::RingOptions ring;           // io_uring sizes and SQPOLL
  unsigned buffer_count = 1024;   // provided receive buffers (power of two)
  unsigned buffer_size = 16384;   // bytes per receive buffer
  std::vector<int> http_fds;      // listening sockets owned by this shard, one per
  std::vector<int> grpc_fds;      //   --dapr-listen-addresses entry
  int internal_fd = -1;
  const invoke::SidecarSettings* settings = nullptr;
  snapshot::SnapshotRegistry* snapshots = nullptr;
  snapshot::SnapshotRegistry::Reader* reader = nullptr;  // this shard's QSBR slot
  ShardCounters* counters = nullptr;
  AcceptBalancer* internal_balancer = nullptr;  // internal-port connections spread over shards; nullptr: one shard
  AcceptBalancer* http_balancer = nullptr;      // HTTP API connections, likewise
  uint32_t busy_poll_us = 0;      // spin for completions before sleeping (busy_poll.h); 0 = off
};

class Shard {
 public:
  explicit Shard(const ShardSetup& setup);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Starts the thread and waits until its ring and listeners are up; the error says why not.
  absl::Status start();
  // Any thread: stop accepting, finish in-flight work within the graceful bound, then exit.
  void request_stop() { stop_.store(true, std::memory_order_release); }
  void join();
  // After a successful start(): this shard's io_uring fd (other shards attach their SQPOLL to it).
  int ring_fd() const { return ring_fd_; }

 private:
  struct State;  // everything the thread owns, built on the thread
  void run();

  ShardSetup setup_;
  std::atomic<bool> stop_{false};
  std::atomic<int> started_{0};      // 0 starting, 1 running, -1 failed
  absl::Status start_status_;        // written by the thread before started_ != 0
  int ring_fd_ = -1;                 // written by the thread before started_ == 1
  std::thread thread_;
};

}  // namespace ringside::shard
