#include "tools/load/latency_summary.h"

#include <algorithm>
#include <cmath>

namespace ringside::load {
namespace {

uint64_t NearestRank(const std::vector<uint64_t>& sorted, double p) {
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

LatencySummary Summarize(std::vector<uint64_t>& samples_us) {
  LatencySummary s;
  if (samples_us.empty()) return s;
  std::sort(samples_us.begin(), samples_us.end());
  s.count = samples_us.size();
  s.p50_us = NearestRank(samples_us, 0.50);
  s.p90_us = NearestRank(samples_us, 0.90);
  s.p99_us = NearestRank(samples_us, 0.99);
  s.max_us = samples_us.back();
  return s;
}

}  // namespace ringside::load
