#pragma once
// OutstandingCalls: calls in flight per instance on this shard (least-request picking),
// incremented when a call starts and decremented when it ends, keyed by stable instance id.
// An id's slot is allocated on its first call (warm-up) and kept at 0 afterwards.
#include <cstdint>

#include "absl/container/flat_hash_map.h"

namespace ringside::lb {

class OutstandingCalls {
 public:
  void started(uint64_t instance_id) { ++count_[instance_id]; }
  void ended(uint64_t instance_id) {
    auto it = count_.find(instance_id);
    if (it != count_.end() && it->second > 0) --it->second;
  }
  uint32_t of(uint64_t instance_id) const {
    auto it = count_.find(instance_id);
    return it == count_.end() ? 0 : it->second;
  }

 private:
  absl::flat_hash_map<uint64_t, uint32_t> count_;  // instance id -> calls in flight
};

}  // namespace ringside::lb
