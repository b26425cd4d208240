#pragma once
// OutlierEjector: passive health per shard. Consecutive failed calls to an instance (connect
// failure, UNAVAILABLE or INTERNAL from its sidecar) eject it for a growing interval — base,
// 2·base, 4·base, ... capped — and any success resets both counts. Keyed by stable instance id;
// an id's slot is allocated on its first failure (warm-up), later updates allocate nothing.
// Time comes from the caller (CLOCK_MONOTONIC ns), so tests drive it with a fake clock.
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "controlplane/snapshot/load_balancing.h"

namespace ringside::lb {

class OutlierEjector {
 public:
  // Whether instance_id is ejected at now_ns.
  bool ejected(uint64_t instance_id, int64_t now_ns) const {
    auto it = state_.find(instance_id);
    return it != state_.end() && now_ns < it->second.ejected_until_ns;
  }
  // A failed call; true when this failure ejected the instance.
  bool record_failure(uint64_t instance_id, int64_t now_ns, const snapshot::OutlierDetection& cfg);
  // A successful call: the instance's failure and ejection counts start over.
  void record_success(uint64_t instance_id);
  // Ejection deadline of instance_id (0 = never ejected), for tests and logs.
  int64_t ejected_until(uint64_t instance_id) const {
    auto it = state_.find(instance_id);
    return it == state_.end() ? 0 : it->second.ejected_until_ns;
  }
  // Ids with state (bounded by the instances this shard has seen fail).
  size_t size() const { return state_.size(); }

 private:
  struct State {
    uint32_t consecutive_failures = 0;  // failures since the last success or ejection
    uint32_t ejections = 0;             // ejections since the last success (doubles the time)
    int64_t ejected_until_ns = 0;       // skipped until then
  };
  absl::flat_hash_map<uint64_t, State> state_;  // instance id -> state
};

}  // namespace ringside::lb
