// ShardPool: the per-shard size-class allocator. What a shard relies on: after warm-up every
// allocation is served from a free list (no global allocator call), blocks are 16-byte aligned,
// usable_size() is honest, reallocate() keeps the bytes, and oversize requests fail cleanly.
#include "dataplane/mem/shard_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "dataplane/mem/pool_object.h"

namespace ringside::mem {
namespace {

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

TEST(ShardPool, FreedBlocksAreRecycledSoGlobalAllocsStopGrowingAfterWarmUp) {
  ShardPool pool;
  const size_t sizes[] = {1, 17, 48, 49, 100, 500, 4000, 70000, 1 << 20};
  std::vector<void*> live;
  // Warm-up: one round fills every class the workload needs.
  for (size_t n : sizes) live.push_back(pool.allocate(n));
  for (void* p : live) pool.deallocate(p);
  live.clear();
  const uint64_t warm = pool.stats().global_allocs;
  // One block per size, plus one spare: 1, 17 and 48 share the 64 B class, whose second block
  // in use takes headroom.
  EXPECT_EQ(warm, std::size(sizes) + 1);
  for (int round = 0; round < 100; ++round) {
    for (size_t n : sizes) live.push_back(pool.allocate(n));
    for (void* p : live) pool.deallocate(p);
    live.clear();
  }
  EXPECT_EQ(pool.stats().global_allocs, warm);
  EXPECT_EQ(pool.stats().allocs, 101 * std::size(sizes));
  EXPECT_EQ(pool.stats().frees, 101 * std::size(sizes));
}

TEST(ShardPool, AClassWhosePeakGrowsTakesAQuarterMoreSoTheNextPeaksNeedNoSystemBlock) {
  ShardPool pool;
  std::vector<void*> live;
  live.push_back(pool.allocate(700));  // 1 KiB class
  EXPECT_EQ(pool.stats().global_allocs, 1u);  // below kHeadroomFrom: no headroom
  EXPECT_EQ(pool.stats().bytes_cached, 0u);
  // The second block comes with one spare (a quarter, at least one), which the third uses.
  live.push_back(pool.allocate(700));
  EXPECT_EQ(pool.stats().global_allocs, 3u);
  EXPECT_EQ(pool.stats().bytes_cached, 1024u);
  live.push_back(pool.allocate(700));
  EXPECT_EQ(pool.stats().global_allocs, 3u);
  EXPECT_EQ(pool.stats().bytes_cached, 0u);
  for (int i = 3; i < 8; ++i) live.push_back(pool.allocate(700));
  // Blocks 4..8 each came with headroom: 4 -> +1, 5 (from the spare) none, ...
  const uint64_t at_peak_8 = pool.stats().global_allocs;
  EXPECT_GT(at_peak_8, 8u);
  EXPECT_LE(at_peak_8, 8u + 8u / 4 + 1 + 1);  // never more than a quarter ahead (plus rounding)
  // A later peak a little higher than any before is served from the headroom.
  const uint64_t cached = pool.stats().bytes_cached / 1024;
  ASSERT_GE(cached, 1u);
  for (uint64_t i = 0; i < cached; ++i) live.push_back(pool.allocate(700));
  EXPECT_EQ(pool.stats().global_allocs, at_peak_8);
  for (void* p : live) pool.deallocate(p);
  // Other classes are unaffected, and headroom is capped.
  ShardPool big;
  std::vector<void*> many;
  for (int i = 0; i < 1000; ++i) many.push_back(big.allocate(100));
  EXPECT_LE(big.stats().global_allocs, 1000u + ShardPool::kHeadroomMax);
  EXPECT_LE(big.stats().bytes_cached, 128u * ShardPool::kHeadroomMax);
  for (void* p : many) big.deallocate(p);
}

TEST(ShardPool, AFreedBlockIsHandedOutAgainForTheSameSizeClass) {
  ShardPool pool;
  void* a = pool.allocate(100);
  pool.deallocate(a);
  void* b = pool.allocate(90);  // same class (128 B block)
  EXPECT_EQ(a, b);
  pool.deallocate(b);
}

TEST(ShardPool, BytesCachedTracksFreeLists) {
  ShardPool pool;
  void* a = pool.allocate(10);     // 64 B block
  void* b = pool.allocate(1000);   // 1 KiB block
  EXPECT_EQ(pool.stats().bytes_cached, 0u);
  pool.deallocate(a);
  pool.deallocate(b);
  EXPECT_EQ(pool.stats().bytes_cached, 64u + 1024u);
  void* c = pool.allocate(1000);
  EXPECT_EQ(pool.stats().bytes_cached, 64u);
  pool.deallocate(c);
}

TEST(ShardPool, UsableSizeCoversTheRequestAndIsTheClassPayload) {
  ShardPool pool;
  for (size_t n : {size_t{0}, size_t{1}, size_t{47}, size_t{48}, size_t{49}, size_t{112},
                   size_t{113}, size_t{4096}, size_t{65536}, size_t{1000000}}) {
    void* p = pool.allocate(n);
    ASSERT_NE(p, nullptr) << n;
    size_t usable = ShardPool::usable_size(p);
    EXPECT_GE(usable, n) << n;
    // Power-of-two block minus the 16-byte header, and no more than twice what was asked.
    size_t block = usable + 16;
    EXPECT_EQ(block & (block - 1), 0u) << n;
    EXPECT_LE(block, std::max<size_t>(64, 2 * (n + 16))) << n;
    // The whole usable size is writable.
    std::memset(p, 0xab, usable);
    pool.deallocate(p);
  }
  void* p = pool.allocate(48);
  EXPECT_EQ(ShardPool::usable_size(p), 48u);  // exactly fills the 64 B class
  pool.deallocate(p);
  p = pool.allocate(49);
  EXPECT_EQ(ShardPool::usable_size(p), 112u);
  pool.deallocate(p);
}

TEST(ShardPool, EveryBlockIs16ByteAligned) {
  ShardPool pool;
  std::vector<void*> live;
  for (size_t n = 0; n < 5000; n += 37) {
    void* p = pool.allocate(n);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned16(p)) << n;
    live.push_back(p);
  }
  for (void* p : live) pool.deallocate(p);
  // Recycled blocks too.
  for (size_t n = 0; n < 5000; n += 37) {
    void* p = pool.allocate(n);
    EXPECT_TRUE(aligned16(p)) << n;
    pool.deallocate(p);
  }
}

TEST(ShardPool, ReallocateGrowingKeepsTheBytes) {
  ShardPool pool;
  auto* p = static_cast<uint8_t*>(pool.allocate(40));
  for (int i = 0; i < 40; ++i) p[i] = static_cast<uint8_t>(i * 7 + 1);
  auto* q = static_cast<uint8_t*>(pool.reallocate(p, 5000));
  ASSERT_NE(q, nullptr);
  EXPECT_GE(ShardPool::usable_size(q), 5000u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(q[i], static_cast<uint8_t>(i * 7 + 1)) << i;
  EXPECT_EQ(pool.stats().frees, 1u);  // the old block went back to its free list
  pool.deallocate(q);
}

TEST(ShardPool, ReallocateWithinTheBlockKeepsThePointer) {
  ShardPool pool;
  void* p = pool.allocate(100);  // 112 usable
  EXPECT_EQ(pool.reallocate(p, 112), p);
  EXPECT_EQ(pool.reallocate(p, 8), p);
  pool.deallocate(p);
}

TEST(ShardPool, ReallocateOfNullAllocatesAndToZeroFrees) {
  ShardPool pool;
  void* p = pool.reallocate(nullptr, 64);
  ASSERT_NE(p, nullptr);
  EXPECT_GE(ShardPool::usable_size(p), 64u);
  EXPECT_EQ(pool.reallocate(p, 0), nullptr);
  EXPECT_EQ(pool.stats().frees, 1u);
}

TEST(ShardPool, ReallocateBeyondTheLargestClassFailsAndKeepsTheOldBlock) {
  ShardPool pool;
  auto* p = static_cast<char*>(pool.allocate(10));
  std::memcpy(p, "keep", 4);
  EXPECT_EQ(pool.reallocate(p, ShardPool::kMaxBlock), nullptr);
  EXPECT_EQ(std::memcmp(p, "keep", 4), 0);  // still owned by the caller
  pool.deallocate(p);
}

TEST(ShardPool, OversizeRequestsReturnNull) {
  ShardPool pool;
  EXPECT_EQ(pool.allocate(ShardPool::kMaxBlock - 16 + 1), nullptr);
  EXPECT_EQ(pool.allocate(ShardPool::kMaxBlock), nullptr);
  EXPECT_EQ(pool.allocate(SIZE_MAX), nullptr);
  EXPECT_EQ(pool.allocate(SIZE_MAX - 8), nullptr);  // n + header would wrap
  EXPECT_EQ(pool.stats().global_allocs, 0u);
}

TEST(ShardPool, TheLargestClassIsServed) {
  ShardPool pool;
  void* p = pool.allocate(ShardPool::kMaxBlock - 16);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ShardPool::usable_size(p), ShardPool::kMaxBlock - 16);
  pool.deallocate(p);
}

TEST(ShardPool, AllocateZeroedClearsRecycledMemoryAndRejectsOverflow) {
  ShardPool pool;
  auto* dirty = static_cast<uint8_t*>(pool.allocate(256));
  std::memset(dirty, 0xff, 256);
  pool.deallocate(dirty);
  auto* z = static_cast<uint8_t*>(pool.allocate_zeroed(16, 16));
  ASSERT_EQ(z, dirty);  // recycled block...
  for (int i = 0; i < 256; ++i) ASSERT_EQ(z[i], 0) << i;  // ...cleared
  pool.deallocate(z);
  EXPECT_EQ(pool.allocate_zeroed(SIZE_MAX / 2, 4), nullptr);  // count * size overflows
  EXPECT_EQ(pool.allocate_zeroed(ShardPool::kMaxBlock, 1), nullptr);
  void* empty = pool.allocate_zeroed(0, 8);
  EXPECT_NE(empty, nullptr);
  pool.deallocate(empty);
}

TEST(ShardPool, DeallocateNullIsANoOp) {
  ShardPool pool;
  pool.deallocate(nullptr);
  EXPECT_EQ(pool.stats().frees, 0u);
}

TEST(ShardPoolDeathTest, FreeingAForeignPointerAborts) {
  ShardPool pool;
  alignas(16) static uint8_t not_ours[64] = {};
  EXPECT_DEATH(pool.deallocate(not_ours + 16), "");
}

TEST(ShardPool, CurrentIsPerThread) {
  ShardPool pool;
  ShardPool::set_current(&pool);
  EXPECT_EQ(ShardPool::current(), &pool);
  ShardPool* seen_elsewhere = &pool;
  std::thread([&] { seen_elsewhere = ShardPool::current(); }).join();
  EXPECT_EQ(seen_elsewhere, nullptr);
  ShardPool::set_current(nullptr);
  EXPECT_EQ(ShardPool::current(), nullptr);
}

struct Tracked {
  explicit Tracked(int* live, int v) : live(live), value(v) { ++*live; }
  ~Tracked() { --*live; }
  int* live;     // counter of constructed, not yet destroyed objects
  int value;     // constructor argument, to check forwarding
  char pad[200]; // makes the object land in the 256 B class
};

TEST(PoolObject, PoolNewConstructsAndPoolDeleteDestroysAndRecycles) {
  ShardPool pool;
  int live = 0;
  Tracked* t = pool_new<Tracked>(&pool, &live, 42);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(live, 1);
  EXPECT_EQ(t->value, 42);
  EXPECT_TRUE(aligned16(t));
  pool_delete(&pool, t);
  EXPECT_EQ(live, 0);
  Tracked* again = pool_new<Tracked>(&pool, &live, 7);
  EXPECT_EQ(static_cast<void*>(again), static_cast<void*>(t));  // same block, no new malloc
  EXPECT_EQ(pool.stats().global_allocs, 1u);
  pool_delete(&pool, again);
  pool_delete<Tracked>(&pool, nullptr);  // no-op
  EXPECT_EQ(live, 0);
}

}  // namespace
}  // namespace ringside::mem
