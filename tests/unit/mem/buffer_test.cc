// mem::Buffer: the byte buffer every connection reads into and writes from. Content must survive
// every combination of append, consume, reserve (compaction and growth) and moves.
#include "dataplane/mem/buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace ringside::mem {
namespace {

std::string pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

TEST(Buffer, StartsEmptyAndAppendsAreReadableInOrder) {
  ShardPool pool;
  Buffer b(&pool);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.view(), "");
  EXPECT_TRUE(b.append("hello"));
  EXPECT_TRUE(b.append(", "));
  EXPECT_TRUE(b.append("world", 5));
  EXPECT_EQ(b.view(), "hello, world");
  EXPECT_EQ(b.span().size(), 12u);
  EXPECT_EQ(b.span()[0], 'h');
  EXPECT_EQ(b.pool(), &pool);
}

TEST(Buffer, EmptyAppendNeedsNoStorage) {
  ShardPool pool;
  Buffer b(&pool);
  EXPECT_TRUE(b.append("", 0));
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(pool.stats().allocs, 0u);
}

TEST(Buffer, ConsumeAdvancesAndConsumingEverythingRewinds) {
  ShardPool pool;
  Buffer b(&pool);
  b.append("abcdef");
  b.consume(2);
  EXPECT_EQ(b.view(), "cdef");
  b.append("gh");
  EXPECT_EQ(b.view(), "cdefgh");
  b.consume(6);
  EXPECT_TRUE(b.empty());
  // Fully drained: the whole capacity is writable again without moving anything.
  EXPECT_EQ(b.tail_room(), b.capacity());
  b.append("x");
  EXPECT_EQ(b.view(), "x");
  b.consume(100);  // more than held: just empties
  EXPECT_TRUE(b.empty());
}

TEST(Buffer, ReserveCompactsInPlaceWhenConsumedSpaceSuffices) {
  ShardPool pool;
  Buffer b(&pool);
  ASSERT_TRUE(b.reserve(200));
  const size_t cap = b.capacity();
  std::string data = pattern(cap, 1);
  ASSERT_TRUE(b.append(data));
  EXPECT_EQ(b.tail_room(), 0u);
  b.consume(cap - 10);  // 10 live bytes at the very end
  const uint64_t allocs = pool.stats().allocs;
  ASSERT_TRUE(b.reserve(cap - 10));
  EXPECT_EQ(b.capacity(), cap);              // no new block...
  EXPECT_EQ(pool.stats().allocs, allocs);
  EXPECT_EQ(b.view(), data.substr(cap - 10));  // ...and the live bytes moved to the front intact
  EXPECT_GE(b.tail_room(), cap - 10);
}

TEST(Buffer, ReserveGrowsInsteadOfMovingMoreLiveBytesThanItReclaims) {
  ShardPool pool;
  Buffer b(&pool);
  ASSERT_TRUE(b.reserve(1024));
  const size_t cap = b.capacity();
  std::string data = pattern(cap, 2);
  ASSERT_TRUE(b.append(data));
  b.consume(100);  // cap - 100 live bytes, 100 reclaimable: moving them would not pay
  const uint8_t* before = b.data();
  ASSERT_TRUE(b.reserve(50));
  EXPECT_GT(b.capacity(), cap);
  EXPECT_NE(b.data(), before);
  EXPECT_EQ(b.view(), data.substr(100));
}

TEST(Buffer, AQueueHoveringNearAWatermarkKeepsItsCapacityBounded) {
  // The outbound queue of a streamed call: 64 KiB appended, drained 16 KiB at a time while it
  // holds more than 256 KiB. Its storage must settle, not creep.
  ShardPool pool;
  Buffer b(&pool);
  const std::string piece = pattern(64 << 10, 3);
  size_t appended = 0, consumed = 0;
  size_t peak = 0;  // the most bytes queued at once (right after an append)
  size_t capacity_at_round_100 = 0;
  for (int round = 0; round < 20000; ++round) {
    ASSERT_TRUE(b.append(piece));
    appended += piece.size();
    peak = std::max(peak, b.size());
    while (b.size() > (256u << 10)) {
      b.consume(16 << 10);
      consumed += 16 << 10;
    }
    if (round == 100) capacity_at_round_100 = b.capacity();
  }
  EXPECT_EQ(b.size(), appended - consumed);
  // It grows only while the consumed front is smaller than the live part and the tail is
  // short of an append: below 2 * peak + one append, so the block settles under twice that.
  EXPECT_LT(b.capacity(), 2 * (2 * peak + piece.size()));
  EXPECT_EQ(b.capacity(), capacity_at_round_100) << "the block kept growing";
  // The bytes still queued are the stream's, in order: the last ones appended.
  const size_t offset = (appended - b.size()) % piece.size();
  EXPECT_EQ(b.view().substr(0, piece.size() - offset), std::string_view(piece).substr(offset));
}

TEST(Buffer, GrowthKeepsUnconsumedContent) {
  ShardPool pool;
  Buffer b(&pool);
  std::string expect;
  std::string chunk = pattern(777, 2);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(b.append(chunk));
    expect += chunk;
    if (i % 3 == 0) {
      b.consume(500);
      expect.erase(0, 500);
    }
  }
  ASSERT_EQ(b.size(), expect.size());
  EXPECT_TRUE(b.view() == expect);
  EXPECT_GE(b.capacity(), b.size());
}

TEST(Buffer, TailAndCommitAppendInPlace) {
  ShardPool pool;
  Buffer b(&pool);
  b.append("ab");
  ASSERT_TRUE(b.reserve(3));
  ASSERT_GE(b.tail_room(), 3u);
  std::memcpy(b.tail(), "cde", 3);
  b.commit(3);
  EXPECT_EQ(b.view(), "abcde");
}

TEST(Buffer, ClearKeepsStorageReleaseReturnsIt) {
  ShardPool pool;
  Buffer b(&pool);
  b.append(pattern(1000, 3));
  const size_t cap = b.capacity();
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(pool.stats().frees, 0u);
  b.release();
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(pool.stats().frees, 1u);
  b.append("again");  // usable after release
  EXPECT_EQ(b.view(), "again");
}

TEST(Buffer, DestructorReturnsStorageToThePool) {
  ShardPool pool;
  {
    Buffer b(&pool);
    b.append(pattern(5000, 4));
  }
  EXPECT_EQ(pool.stats().allocs, pool.stats().frees);
}

TEST(Buffer, MoveConstructionTransfersContentAndEmptiesTheSource) {
  ShardPool pool;
  Buffer a(&pool);
  a.append("payload");
  a.consume(3);
  Buffer b(std::move(a));
  EXPECT_EQ(b.view(), "load");
  EXPECT_EQ(b.pool(), &pool);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(a.capacity(), 0u);
  a.append("reuse");       // a moved-from buffer still works (keeps its pool)
  EXPECT_EQ(a.view(), "reuse");
}

TEST(Buffer, MoveAssignmentFreesTheOldStorage) {
  ShardPool pool;
  Buffer a(&pool), b(&pool);
  a.append("from a");
  b.append("old b");
  const uint64_t frees = pool.stats().frees;
  b = std::move(a);
  EXPECT_EQ(b.view(), "from a");
  EXPECT_EQ(pool.stats().frees, frees + 1);
  b = std::move(b);  // self-move keeps the content
  EXPECT_EQ(b.view(), "from a");
}

TEST(Buffer, SwapExchangesContent) {
  ShardPool pool;
  Buffer a(&pool), b(&pool);
  a.append("first");
  b.append("second");
  std::swap(a, b);
  EXPECT_EQ(a.view(), "second");
  EXPECT_EQ(b.view(), "first");
}

TEST(Buffer, ReserveBeyondThePoolFailsAndKeepsContent) {
  ShardPool pool;
  Buffer b(&pool);
  b.append("keep me");
  EXPECT_FALSE(b.reserve(ShardPool::kMaxBlock));
  EXPECT_EQ(b.view(), "keep me");
}

TEST(Buffer, AbsurdReserveFailsInsteadOfLooping) {
  // A length taken from the wire (e.g. a forged Content-Length) must not hang the shard.
  ShardPool pool;
  Buffer b(&pool);
  b.append("x");
  EXPECT_FALSE(b.reserve(SIZE_MAX));
  EXPECT_FALSE(b.reserve(SIZE_MAX / 2 + 1));
  EXPECT_FALSE(b.reserve((size_t{1} << 63) + 12345));
  EXPECT_EQ(b.view(), "x");
  Buffer fresh(&pool);  // no storage yet: growth starts from scratch
  EXPECT_FALSE(fresh.reserve((size_t{1} << 63) + 1));
  EXPECT_FALSE(fresh.reserve(SIZE_MAX));
  EXPECT_TRUE(fresh.empty());
}

TEST(Buffer, ClearKeepingReturnsOnlyABlockLargerThanTheBound) {
  ShardPool pool;
  Buffer small(&pool);
  ASSERT_TRUE(small.append(std::string(1000, 's')));
  const size_t small_cap = small.capacity();
  small.clear_keeping(64 * 1024);
  EXPECT_TRUE(small.empty());
  EXPECT_EQ(small.capacity(), small_cap);  // kept: the next message needs no block
  Buffer large(&pool);
  ASSERT_TRUE(large.append(std::string(100 * 1024, 'l')));
  large.clear_keeping(64 * 1024);
  EXPECT_TRUE(large.empty());
  EXPECT_EQ(large.capacity(), 0u);  // back on the pool's free list
  const uint64_t before = pool.stats().global_allocs;
  ASSERT_TRUE(large.append(std::string(100 * 1024, 'l')));
  EXPECT_EQ(pool.stats().global_allocs, before);
}

}  // namespace
}  // namespace ringside::mem
