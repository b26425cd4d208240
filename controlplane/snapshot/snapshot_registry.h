// SnapshotRegistry: publishes InstanceTables from the control plane to the shards and frees
// old ones with quiescent-state-based reclamation (QSBR).
//
// Readers (shards) never lock and never write a shared refcount: current() is one acquire
// load. Each shard owns a Reader and reports a quiescent state once per event-loop iteration
// (it holds no table pointer across that call). A table retired by publish() is freed by
// reclaim() once every online reader has reported a quiescent state after the retirement.
// A reader blocked in io_uring wait goes offline() first so it does not hold reclamation up.
//
// The registry is also the shards' line to the control plane in both directions, without locks:
// publish() wakes every reader at once through its eventfd (shards keep a read armed on it), and
// a shard whose table lacks an app id asks for a lookup through its LookupRing, which wakes the
// control plane through the listener eventfd it registered.
//
//   control plane:  publish(T2)  ->  current_ = T2, epoch_ = E, T1 retired at E
//   shard k:        ... uses T1 ... quiescent(): seen_k = E (T1 no longer referenced)
//   control plane:  reclaim(): min(seen of online readers) >= E  ->  delete T1
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "controlplane/snapshot/instance_table.h"
#include "controlplane/snapshot/lookup_ring.h"

namespace ringside::snapshot {

class SnapshotRegistry {
 public:
  // One per shard thread; only that thread calls its methods.
  class Reader {
   public:
    // Call once per event-loop iteration, at a point where no table pointer is held.
    // Cheap: writes the shared line only when a new table was published since the last call.
    void quiescent();
    // Call before blocking (io_uring wait); no table access until online().
    void offline();
    // Call after blocking, before touching current() again.
    void online();
    // Readable (8 bytes) after every publish(); the shard keeps a read armed on it so a new
    // table wakes it at once.
    int wake_fd() const { return wake_fd_; }
    // Asks the control plane to look app_id/ns up (the table has no entry for it). No
    // allocation; one non-blocking eventfd write. False when the request cannot be queued.
    bool request_lookup(std::string_view app_id, std::string_view ns);

   private:
    friend class SnapshotRegistry;
    LookupRing lookups_;                          // this shard's requests to the control plane
    int wake_fd_ = -1;                            // eventfd written by publish()
    // Last epoch this reader reported; 0 = offline. Own cache line: written by one shard,
    // read by the control plane only.
    alignas(64) std::atomic<uint64_t> seen_epoch_{0};
    const SnapshotRegistry* registry_ = nullptr;  // owner, for the global epoch
  };

  // Publishes an empty table (version 0) so current() is never null.
  explicit SnapshotRegistry(int max_readers);
  // Frees every table; all readers must have stopped.
  ~SnapshotRegistry();

  SnapshotRegistry(const SnapshotRegistry&) = delete;
  SnapshotRegistry& operator=(const SnapshotRegistry&) = delete;

  // Control plane: makes `table` current with one atomic store and retires the previous one.
  void publish(std::unique_ptr<const InstanceTable> table);

  // Readers: the current table; valid until this thread's next quiescent()/offline().
  // Only threads holding an online Reader may call it (the control plane, the sole
  // publisher, may too: it never frees the current table).
  const InstanceTable* current() const { return current_.load(std::memory_order_acquire); }

  // Before shards start (or at thread start): a reader slot, registered online.
  // nullptr when all max_readers slots are taken.
  Reader* register_reader();

  // Control plane: the eventfd request_lookup() writes to (-1 = none).
  void set_lookup_listener(int fd) { lookup_fd_.store(fd, std::memory_order_release); }
  // Control plane: calls fn(app_id, ns) for every queued lookup request of every reader.
  template <typename Fn>
  void drain_lookups(Fn&& fn) {
    const int n = reader_count_.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i) readers_[i].lookups_.drain(fn);
  }

  // Control plane: frees retired tables every online reader has passed; returns how many.
  size_t reclaim();

  // Retired tables not yet freed (for tests and metrics).
  size_t retired_count() const;

 private:
  // A table replaced by publish(), waiting for readers to pass epoch `retired_at`.
  struct Retired {
    const InstanceTable* table;  // owned; deleted by reclaim()
    uint64_t retired_at;         // epoch value published right after the swap
  };

  alignas(64) std::atomic<const InstanceTable*> current_{nullptr};  // the published table (owned)
  alignas(64) std::atomic<uint64_t> epoch_{1};  // bumped by every publish; 0 is reserved for "offline"
  const int max_readers_;                       // capacity of readers_
  std::unique_ptr<Reader[]> readers_;           // fixed slots, so readers never move
  std::atomic<int> reader_count_{0};            // slots handed out
  std::atomic<int> lookup_fd_{-1};              // control plane's eventfd for lookup requests
  // Control-plane side only (publish vs reclaim vs retired_count). std::mutex, not absl::Mutex:
  // Debian's prebuilt Abseil is not TSan-instrumented, so TSan cannot see absl::Mutex.
  mutable std::mutex mu_;
  std::vector<Retired> retired_;  // guarded by mu_
};

}  // namespace ringside::snapshot
