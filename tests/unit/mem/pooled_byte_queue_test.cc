// PooledByteQueue: request bytes an app connection has not taken yet. Bytes come out in order
// whatever the append / move sizes, memory is whole 64 KiB pool blocks that are recycled, and a
// failed append adds nothing.
#include "dataplane/mem/pooled_byte_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "dataplane/mem/buffer.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::invoke {
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

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(PooledByteQueue, BytesLeaveInOrderAcrossBlockBoundaries) {
  mem::ShardPool pool;
  PooledByteQueue q(&pool);
  const std::string data = pattern(700000, 1);  // ~11 blocks
  // Uneven appends, including ones larger than a block.
  size_t off = 0;
  for (size_t step : {1u, 100u, 65503u, 65504u, 65505u, 200000u, 7u}) {
    ASSERT_TRUE(q.append(bytes(data.substr(off, step))));
    off += step;
  }
  ASSERT_TRUE(q.append(bytes(data.substr(off))));
  EXPECT_EQ(q.size(), data.size());
  // Uneven moves.
  mem::Buffer out(&pool);
  for (size_t step : {3u, 65536u, 1u, 131072u, 99999u}) {
    EXPECT_EQ(q.move_to(out, step), step);
  }
  const size_t rest = q.size();
  EXPECT_EQ(rest, data.size() - out.size());
  EXPECT_EQ(q.move_to(out, SIZE_MAX), rest);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(out.view() == data);
}

TEST(PooledByteQueue, InterleavedAppendAndMoveKeepOrder) {
  mem::ShardPool pool;
  PooledByteQueue q(&pool);
  mem::Buffer out(&pool);
  const std::string data = pattern(1 << 20, 2);
  size_t in = 0;
  for (size_t round = 0; in < data.size(); ++round) {
    const size_t n = std::min<size_t>(data.size() - in, 1 + (round * 7919) % 90000);
    ASSERT_TRUE(q.append(bytes(data.substr(in, n))));
    in += n;
    q.move_to(out, (round * 104729) % 80000);
  }
  q.move_to(out, SIZE_MAX);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(out.size(), data.size());
  EXPECT_TRUE(out.view() == data);
}

TEST(PooledByteQueue, HoldingABurstCostsItsSizeInRecycledBlocks) {
  mem::ShardPool pool;
  PooledByteQueue q(&pool);
  mem::Buffer out(&pool);
  const std::string burst = pattern(8 << 20, 3);  // one HTTP/2 stream window
  ASSERT_TRUE(q.append(bytes(burst)));
  const uint64_t blocks = pool.stats().global_allocs;
  // 8 MiB in blocks of 64 KiB (minus headers): 129 blocks, not a doubling series, plus the
  // pool's headroom for a class whose peak grows (a quarter more, shard_pool.h).
  EXPECT_GE(blocks, 129u);
  EXPECT_LE(blocks, 130u + 130u / 4);
  q.move_to(out, SIZE_MAX);
  EXPECT_TRUE(out.view() == burst);
  // The next burst reuses the same blocks: the pool does not grow.
  const uint64_t before = pool.stats().global_allocs;
  ASSERT_TRUE(q.append(bytes(burst)));
  EXPECT_EQ(pool.stats().global_allocs, before);
  q.clear();
  EXPECT_TRUE(q.empty());
}

TEST(PooledByteQueue, EmptyAppendAndEmptyMoveAreNoOps) {
  mem::ShardPool pool;
  PooledByteQueue q(&pool);
  mem::Buffer out(&pool);
  EXPECT_TRUE(q.append({}));
  EXPECT_EQ(q.move_to(out, 100), 0u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(pool.stats().global_allocs, 0u);
}

}  // namespace
}  // namespace ringside::invoke
