#include "dataplane/upstream/lb/outlier_ejector.h"

#include <algorithm>

namespace ringside::lb {

bool OutlierEjector::record_failure(uint64_t instance_id, int64_t now_ns, const snapshot::OutlierDetection& cfg) {
  if (cfg.consecutive_failures == 0) return false;
  State& s = state_[instance_id];
  // Failures of calls that started before the ejection (in flight when it happened) do not
  // extend it: the instance is already out.
  if (now_ns < s.ejected_until_ns) return false;
  if (++s.consecutive_failures < cfg.consecutive_failures) return false;
  const uint32_t shift = std::min<uint32_t>(s.ejections, 30);
  int64_t interval = cfg.base_ejection_ns;
  for (uint32_t i = 0; i < shift && interval < cfg.max_ejection_ns; ++i) interval *= 2;
  s.ejected_until_ns = now_ns + std::min(interval, cfg.max_ejection_ns);
  s.consecutive_failures = 0;
  ++s.ejections;
  return true;
}

void OutlierEjector::record_success(uint64_t instance_id) {
  auto it = state_.find(instance_id);
  if (it == state_.end()) return;
  it->second.consecutive_failures = 0;
  it->second.ejections = 0;
}

}  // namespace ringside::lb
