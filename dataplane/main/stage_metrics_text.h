#pragma once
// Prometheus text for the shards' issue 11 series that are not plain per-shard counters: the
// per-stage latency histograms (`ringside_stage_latency_seconds`, contract in docs/metrics.md)
// and the snapshot age. Runs on the metrics thread; reads the shards' relaxed atomics, so a
// scrape may see a bucket bumped before its _sum (each series is still monotonic).
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/runtime/shard_counters.h"
#include "dataplane/runtime/timer_list.h"

namespace ringside::metrics_text {

// Appends ringside_stage_latency_seconds for shards items[0..n).
inline void append_stage_histograms(std::string* out, const shard::ShardCounters* items, int n,
                                    const std::string& app_id) {
  const char* const kName = "ringside_stage_latency_seconds";
  absl::StrAppend(out, "# HELP ", kName,
                  " Time each invocation spends in each stage, per shard (ingress_parse, resolve_pick, "
                  "pool_wait, peer_round_trip, app_round_trip, response_write)\n# TYPE ",
                  kName, " histogram\n");
  for (size_t s = 0; s < shard::kStageCount; ++s) {
    const char* stage = shard::kStageNames[s];
    for (int i = 0; i < n; ++i) {
      const shard::StageHistogram& h = items[i].stages.stages[s];
      uint64_t cumulative = 0;
      for (size_t b = 0; b < shard::kStageBuckets; ++b) {
        cumulative += h.buckets[b].load(std::memory_order_relaxed);
        const char* le = b < shard::kStageBucketLabels.size() ? shard::kStageBucketLabels[b] : "+Inf";
        absl::StrAppend(out, kName, "_bucket{app_id=\"", app_id, "\",stage=\"", stage, "\",shard=\"", i,
                        "\",le=\"", le, "\"} ", cumulative, "\n");
      }
      const double sum_s = static_cast<double>(h.sum_ns.load(std::memory_order_relaxed)) / 1e9;
      absl::StrAppend(out, kName, "_sum{app_id=\"", app_id, "\",stage=\"", stage, "\",shard=\"", i, "\"} ",
                      absl::StrFormat("%.9g", sum_s), "\n");
      absl::StrAppend(out, kName, "_count{app_id=\"", app_id, "\",stage=\"", stage, "\",shard=\"", i, "\"} ",
                      cumulative, "\n");
    }
  }
}

// Appends ringside_snapshot_age_seconds: how long ago each shard first saw the InstanceTable
// version it runs on (a shard stuck on an old table shows a growing age). now_ns: monotonic.
inline void append_snapshot_age(std::string* out, const shard::ShardCounters* items, int n,
                                const std::string& app_id, int64_t now_ns) {
  const char* const kName = "ringside_snapshot_age_seconds";
  absl::StrAppend(out, "# HELP ", kName,
                  " Seconds since the shard first saw the InstanceTable snapshot it uses\n# TYPE ", kName,
                  " gauge\n");
  for (int i = 0; i < n; ++i) {
    const int64_t seen = items[i].table_seen_ns.load(std::memory_order_relaxed);
    const double age = seen == 0 || now_ns < seen ? 0.0 : static_cast<double>(now_ns - seen) / 1e9;
    absl::StrAppend(out, kName, "{app_id=\"", app_id, "\",shard=\"", i, "\"} ", absl::StrFormat("%.3f", age),
                    "\n");
  }
}

}  // namespace ringside::metrics_text
