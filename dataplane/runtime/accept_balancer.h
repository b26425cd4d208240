#pragma once
// AcceptBalancer: spreads one port's connections (internal port: peer sidecars; HTTP API) over this
// sidecar's shards. Every shard owns an SO_REUSEPORT listener, so the kernel hashes each
// connection onto a shard by its addresses; a peer with 2 shards opens 2 connections (one per
// shard, each carrying that shard's calls), and half the time both land on the same shard here,
// leaving the other idle. So the accepting shard asks assign() which shard has the fewest live
// internal connections; when that is another one, it passes the socket over with one
// IORING_OP_MSG_RING to that shard's ring (the completion carries the fd and points at the
// target's handoff Operation), which wakes it like any other completion. No lock, no queue,
// and nothing on the request path: only accepts and closes touch the counts (relaxed atomics,
// one cache line per shard so shards do not contend on one line).
//
// Counting: assign() counts the connection on the shard it picks, before the handoff, so two
// shards accepting at once see each other's choice; the connection's owner calls release()
// when it ends (or undo() when the handoff did not happen and the fd stays with the acceptor).
#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/io/operation.h"

namespace ringside::shard {

class AcceptBalancer {
 public:
  // min_gap: hand a connection over only when another shard has at least this many fewer. Both
  // ports use 1 today: with 2 (tried for the HTTP port, to hand churning short connections
  // over less often) 4 client connections ended 3/1 and the shards' load with them.
  AcceptBalancer(int shards, int min_gap) : shards_(shards), min_gap_(min_gap), slots_(new Slot[shards > 0 ? shards : 1]) {}

  int shards() const { return shards_; }

  // The shard's ring takes handoffs from now on: `ring_fd` is its io_uring fd, `handoff` the
  // Operation whose completion receives a socket. open(shard, -1, nullptr) (at drain) stops them.
  void open(int shard, int ring_fd, io::Operation* handoff) {
    slots_[shard].handoff.store(handoff, std::memory_order_relaxed);
    slots_[shard].ring_fd.store(ring_fd, std::memory_order_release);
  }
  struct Target {
    int shard = -1;                     // who serves the connection (counted there)
    int ring_fd = -1;                   // its ring, when it is not the caller
    io::Operation* handoff = nullptr;   // the completion that hands the socket over
  };
  // Shard `self` accepted an internal connection: who serves it. Self on ties, and self when
  // no other shard takes handoffs.
  Target assign(int self) {
    int best = self;
    int best_live = slots_[self].live.load(std::memory_order_relaxed) - (min_gap_ - 1);
    for (int i = 0; i < shards_; ++i) {
      if (i == self || slots_[i].ring_fd.load(std::memory_order_acquire) < 0) continue;
      const int live = slots_[i].live.load(std::memory_order_relaxed);
      if (live < best_live) {
        best = i;
        best_live = live;
      }
    }
    slots_[best].live.fetch_add(1, std::memory_order_relaxed);
    Target t{best, -1, nullptr};
    if (best != self) {
      t.ring_fd = slots_[best].ring_fd.load(std::memory_order_acquire);
      t.handoff = slots_[best].handoff.load(std::memory_order_relaxed);
      if (t.ring_fd < 0) {  // it stopped taking handoffs just now: keep the connection
        move(best, self);
        t = {self, -1, nullptr};
      }
    }
    return t;
  }
  // The handoff to `from` failed: `to` (the acceptor) keeps the connection.
  void move(int from, int to) {
    slots_[from].live.fetch_sub(1, std::memory_order_relaxed);
    slots_[to].live.fetch_add(1, std::memory_order_relaxed);
  }
  // A connection counted on `shard` ended.
  void release(int shard) { slots_[shard].live.fetch_sub(1, std::memory_order_relaxed); }
  // Live internal connections counted on `shard` (tests, metrics).
  int live(int shard) const { return slots_[shard].live.load(std::memory_order_relaxed); }

 private:
  struct alignas(64) Slot {
    std::atomic<int> live{0};                       // internal connections served by this shard
    std::atomic<int> ring_fd{-1};                   // its io_uring fd; -1 = takes no handoffs
    std::atomic<io::Operation*> handoff{nullptr};   // its handoff completion
  };
  const int shards_;
  const int min_gap_;               // see the constructor
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace ringside::shard
