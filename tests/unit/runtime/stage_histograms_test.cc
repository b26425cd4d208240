// StageHistograms and their Prometheus text: buckets per the issue 11 contract, cumulative
// `le` rows, _sum in seconds, _count, and ShardCounters' cache-line alignment.
#include "dataplane/runtime/stage_histograms.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dataplane/main/stage_metrics_text.h"
#include "dataplane/runtime/shard_counters.h"

namespace ringside::shard {
namespace {

TEST(StageHistograms, DurationsLandInTheirBucketAndSum) {
  StageHistograms h;
  h.record(Stage::kPeerRoundTrip, 1'000);        // exactly 1 µs: le="1e-06"
  h.record(Stage::kPeerRoundTrip, 1'500);        // le="2e-06"
  h.record(Stage::kPeerRoundTrip, 3'000'000'000);// 3 s: +Inf
  h.record(Stage::kPeerRoundTrip, -5);           // clock oddity: counted as 0
  const StageHistogram& p = h.stages[static_cast<size_t>(Stage::kPeerRoundTrip)];
  EXPECT_EQ(p.buckets[0].load(), 2u);
  EXPECT_EQ(p.buckets[1].load(), 1u);
  EXPECT_EQ(p.buckets[kStageBuckets - 1].load(), 1u);
  EXPECT_EQ(p.sum_ns.load(), 3'000'002'500u);
  EXPECT_EQ(h.stages[static_cast<size_t>(Stage::kAppRoundTrip)].buckets[0].load(), 0u);
}

TEST(StageHistograms, RenderedAsPrometheusHistogramPerStageAndShard) {
  auto shards = std::make_unique<ShardCounters[]>(2);
  shards[1].stages.record(Stage::kResolvePick, 40'000);   // 40 µs: first fits le="5e-05"
  shards[1].stages.record(Stage::kResolvePick, 150'000);  // 150 µs: le="0.0002"
  std::string out;
  metrics_text::append_stage_histograms(&out, shards.get(), 2, "a");
  EXPECT_NE(out.find("# TYPE ringside_stage_latency_seconds histogram\n"), std::string::npos);
  const std::string p = "ringside_stage_latency_seconds";
  EXPECT_NE(out.find(p + "_bucket{app_id=\"a\",stage=\"resolve_pick\",shard=\"1\",le=\"2e-05\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find(p + "_bucket{app_id=\"a\",stage=\"resolve_pick\",shard=\"1\",le=\"5e-05\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find(p + "_bucket{app_id=\"a\",stage=\"resolve_pick\",shard=\"1\",le=\"0.0002\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find(p + "_bucket{app_id=\"a\",stage=\"resolve_pick\",shard=\"1\",le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find(p + "_count{app_id=\"a\",stage=\"resolve_pick\",shard=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(out.find(p + "_sum{app_id=\"a\",stage=\"resolve_pick\",shard=\"1\"} 0.00019\n"), std::string::npos);
  EXPECT_NE(out.find(p + "_count{app_id=\"a\",stage=\"resolve_pick\",shard=\"0\"} 0\n"), std::string::npos);
  for (const char* stage : kStageNames) {
    EXPECT_NE(out.find(std::string("stage=\"") + stage + "\",shard=\"0\",le=\"1\"}"), std::string::npos) << stage;
  }
}

TEST(ShardCounters, EachShardOnItsOwnCacheLines) {
  static_assert(alignof(ShardCounters) == 64);
  auto shards = std::make_unique<ShardCounters[]>(2);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&shards[0]) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&shards[1]) % 64, 0u);
}

TEST(ShardCounters, SetStoresOnlyChanges) {
  ShardCounters c;
  ShardCounters::set(c.heap_allocations, 7);
  ShardCounters::set(c.heap_allocations, 7);
  EXPECT_EQ(c.heap_allocations.load(), 7u);
}

}  // namespace
}  // namespace ringside::shard
