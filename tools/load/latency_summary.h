// Percentiles over the latencies of one load run.
#pragma once

#include <cstdint>
#include <vector>

namespace ringside::load {

struct LatencySummary {
  uint64_t count = 0;  // samples summarized
  uint64_t p50_us = 0;  // median, microseconds
  uint64_t p90_us = 0;  // 90th percentile, microseconds
  uint64_t p99_us = 0;  // 99th percentile, microseconds
  uint64_t max_us = 0;  // slowest sample, microseconds
};

// Nearest-rank percentiles; sorts `samples_us` in place.
LatencySummary Summarize(std::vector<uint64_t>& samples_us);

}  // namespace ringside::load
