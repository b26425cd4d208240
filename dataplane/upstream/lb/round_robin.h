#pragma once
// RoundRobin: the shard's round-robin picker (daprd's mDNS resolver order), one cursor per app
// id. Keyed by a hash of the app id (not by pointers into an InstanceTable) so a cursor
// survives table swaps; a new app id allocates its slot once (warm-up), later picks allocate
// nothing. Excluded instances are stepped over, the cursor still advancing once per pick.
#include <cstdint>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "dataplane/upstream/lb/picker.h"

namespace ringside::lb {

class RoundRobin final : public Picker {
 public:
  // Index in [0, n) for the next call to app_id (cursor `salt` of it: see PickRequest). n > 0.
  size_t pick(std::string_view app_id, size_t n, uint32_t salt = 0) {
    uint32_t& cursor = cursors_[salt == 0 ? absl::HashOf(app_id) : absl::HashOf(app_id, salt)];
    return cursor++ % n;
  }

  const snapshot::Instance* pick(const PickRequest& req,
                                 std::span<const snapshot::Instance> instances) override {
    if (instances.empty()) return nullptr;
    size_t first = pick(req.app_id, instances.size(), req.cursor_salt);
    for (size_t k = 0; k < instances.size(); ++k) {
      const snapshot::Instance& inst = instances[(first + k) % instances.size()];
      if (!excluded(req, inst.id)) return &inst;
    }
    return nullptr;
  }

 private:
  absl::flat_hash_map<uint64_t, uint32_t> cursors_;  // app id hash → next position
};

}  // namespace ringside::lb
