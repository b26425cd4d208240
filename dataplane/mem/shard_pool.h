#pragma once
// ShardPool: a size-class free-list allocator owned by exactly one shard thread.
//
// Why: the request path must make zero calls into the global allocator in steady state
// (BRIEF §7). Every block freed goes back onto the free list of its size class and is handed
// out again; the pool asks the global allocator only while it warms up (a class is empty).
//
// Block layout (16-byte header keeps payload 16-byte aligned):
//   [ uint32 class | uint32 magic | next block ever allocated ][ payload ... ]
// Every block the pool ever took from the system is chained through its header, so the pool's
// destructor returns all of them, including blocks still holding objects when a shard stops.
// Classes are powers of two from 64 B to 64 MiB. Larger requests fail (nullptr): no message
// on the data plane is allowed to be that large.
//
// Headroom: a class that runs empty while at least kHeadroomFrom of its blocks are in use takes
// a quarter more (at least one, at most kHeadroomMax) at once, onto its free list. The blocks a class needs
// is the most in use at once, and under load that peak creeps up now and then by one or two
// (an unlucky interleaving); with headroom such a peak is served from the free list instead of
// a global allocation on the request path. Unused headroom costs address space, not memory:
// the pages of a block never written are not resident. From the second block in use on: the
// large classes (the 2 MiB blocks of 1 MiB bodies) have only a few blocks in use, and while
// headroom began at 4 such a class got none (issue 11's allocation test caught one block taken
// on a callee shard about once in 40 parallel runs).
#include <cstddef>
#include <cstdint>

namespace ringside::mem {

struct PoolStats {
  uint64_t global_allocs = 0;  // calls into malloc made by this pool (warm-up only)
  uint64_t allocs = 0;         // blocks handed out
  uint64_t frees = 0;          // blocks returned
  uint64_t bytes_cached = 0;   // bytes held on free lists
};

class ShardPool {
 public:
  static constexpr int kMinShift = 6;   // 64 B
  static constexpr int kMaxShift = 26;  // 64 MiB
  static constexpr int kClasses = kMaxShift - kMinShift + 1;
  static constexpr size_t kMaxBlock = size_t{1} << kMaxShift;
  static constexpr uint32_t kHeadroomFrom = 2;   // blocks in use before a class takes headroom
  static constexpr uint32_t kHeadroomMax = 32;   // extra blocks taken at once, at most

  ShardPool() = default;
  // Frees every block, in use or not: objects still living in the pool are not destroyed.
  ~ShardPool();
  ShardPool(const ShardPool&) = delete;
  ShardPool& operator=(const ShardPool&) = delete;

  void* allocate(size_t n);
  void deallocate(void* p);
  void* reallocate(void* p, size_t n);
  void* allocate_zeroed(size_t count, size_t size);
  // Usable payload size of a block returned by allocate().
  static size_t usable_size(const void* p);

  const PoolStats& stats() const { return stats_; }

  // The pool of the calling shard thread (nullptr on other threads). Set by the shard.
  static ShardPool* current();
  static void set_current(ShardPool* pool);

 private:
  struct FreeBlock { FreeBlock* next; };
  // One block from the system for class cls (counted in global_allocs); nullptr if none.
  void* take_from_system(int cls);

  FreeBlock* free_[kClasses] = {};
  uint32_t in_use_[kClasses] = {};  // blocks of each class handed out and not returned
  void* all_ = nullptr;  // header of the newest block taken from the system (chain of all)
  PoolStats stats_;
};

}  // namespace ringside::mem
