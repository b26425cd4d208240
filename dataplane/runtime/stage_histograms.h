#pragma once
// StageHistograms: one shard's per-stage latency histograms (issue 11 metrics contract,
// docs/metrics.md). Fixed arrays, no allocation, written only by the owning shard with relaxed
// load+store (no read-modify-write), read by the metrics thread when rendering
// `ringside_stage_latency_seconds{stage,shard,le}`. Each record() costs one bucket scan over 19
// thresholds; the caller supplies the duration from one clock read per stage boundary.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ringside::shard {

// The stages of one invocation, in the order a call crosses them.
enum class Stage : uint8_t {
  kIngressParse = 0,   // first byte of a request → request parsed
  kResolvePick = 1,    // → instance chosen
  kPoolWait = 2,       // → stream open on a peer connection
  kPeerRoundTrip = 3,  // → peer's response complete
  kAppRoundTrip = 4,   // callee: request to the app → app's response complete
  kResponseWrite = 5,  // → response handed to the socket
};
inline constexpr size_t kStageCount = 6;

// Label values, indexed by Stage.
inline constexpr std::array<const char*, kStageCount> kStageNames = {
    "ingress_parse", "resolve_pick", "pool_wait", "peer_round_trip", "app_round_trip", "response_write"};

// Upper bounds in nanoseconds (the contract's buckets in seconds: 1e-6 ... 1); +Inf is implicit.
inline constexpr std::array<int64_t, 19> kStageBucketBoundsNs = {
    1'000,      2'000,      5'000,       10'000,      20'000,      50'000,     100'000,
    200'000,    500'000,    1'000'000,   2'000'000,   5'000'000,   10'000'000, 20'000'000,
    50'000'000, 100'000'000, 200'000'000, 500'000'000, 1'000'000'000};
// Label text of each bound, as rendered in `le` (same order as kStageBucketBoundsNs).
inline constexpr std::array<const char*, 19> kStageBucketLabels = {
    "1e-06", "2e-06", "5e-06", "1e-05", "2e-05", "5e-05", "0.0001", "0.0002", "0.0005", "0.001",
    "0.002", "0.005", "0.01",  "0.02",  "0.05",  "0.1",   "0.2",    "0.5",    "1"};
inline constexpr size_t kStageBuckets = kStageBucketBoundsNs.size() + 1;  // + the +Inf bucket

struct StageHistogram {
  std::array<std::atomic<uint64_t>, kStageBuckets> buckets{};  // non-cumulative counts per bucket
  std::atomic<uint64_t> sum_ns{0};                              // total of every recorded duration
};

struct StageHistograms {
  std::array<StageHistogram, kStageCount> stages{};  // indexed by Stage

  // Records one duration (negative clamps to 0). Owning shard only.
  void record(Stage stage, int64_t ns) {
    if (ns < 0) ns = 0;
    StageHistogram& h = stages[static_cast<size_t>(stage)];
    size_t i = 0;
    while (i < kStageBucketBoundsNs.size() && ns > kStageBucketBoundsNs[i]) ++i;
    h.buckets[i].store(h.buckets[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    h.sum_ns.store(h.sum_ns.load(std::memory_order_relaxed) + static_cast<uint64_t>(ns),
                   std::memory_order_relaxed);
  }
};

}  // namespace ringside::shard
