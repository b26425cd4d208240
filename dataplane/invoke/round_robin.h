#pragma once
// RoundRobin: the shard's round-robin cursors, one per app id. Keyed by a hash of the app id
// (not by pointers into an InstanceTable) so a cursor survives table swaps; a new app id
// allocates its slot once (warm-up), later picks allocate nothing.
#include <cstdint>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

namespace ringside::invoke {

class RoundRobin {
 public:
  // Index in [0, n) for the next call to app_id. n > 0.
  size_t pick(std::string_view app_id, size_t n) {
    uint32_t& cursor = cursors_[absl::HashOf(app_id)];
    return cursor++ % n;
  }

 private:
  absl::flat_hash_map<uint64_t, uint32_t> cursors_;  // app id hash → next position
};

}  // namespace ringside::invoke
