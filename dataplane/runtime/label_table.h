#pragma once
// LabelTable: a shard's fixed-size table of metric rows keyed by label text (an app id, or a
// pre-rendered label set such as `method="GET",path="/v1.0/...",status="200"`), for daprd's
// per-peer series (issue 11, docs/metrics.md "daprd dashboard names").
//
// Why this shape: the shard must not allocate, lock or block, yet daprd labels its invocation
// series by the peer's app id, which is open-ended. So: kCapacity slots, open addressing on a
// hash of the key, the key text copied into the slot the first time it is seen, and
// one overflow row (rendered with the key "_other") once the table is full or the key too long.
// Only the owning shard writes (relaxed load+store, no read-modify-write); the metrics thread
// reads a slot only after its `used` flag (release/acquire) says the key text is in place.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringside::shard {

inline constexpr std::string_view kOverflowLabel = "_other";  // the key of the overflow row

// FNV-1a: cheap, allocation-free, good enough to spread a few dozen app ids.
inline uint64_t label_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// A character a label value may carry in Prometheus text as it is; others become '_' (callers
// building a rendered label set, and the renderer of app ids, apply it to label values).
inline char label_safe_char(char c) {
  return (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) ? '_' : c;
}

// One relaxed counter, bumped by its owning shard only.
inline void bump_relaxed(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

template <typename Row, size_t kCapacity, size_t kKeyMax>
struct LabelTable {
  struct Slot {
    std::atomic<bool> used{false};  // set (release) once key/len are written; never cleared
    uint64_t hash = 0;              // label_hash of the key (shard only)
    uint16_t len = 0;               // key length
    char key[kKeyMax] = {};         // key text as given
    Row row;                        // the counters
  };
  std::array<Slot, kCapacity> slots;  // open-addressed by hash
  Row overflow;                       // keys past capacity or longer than kKeyMax

  // The row of `key`, added on first sight. Owning shard only; never allocates.
  Row& row(std::string_view key) {
    if (key.size() > kKeyMax) return overflow;
    const uint64_t h = label_hash(key);
    size_t i = h % kCapacity;
    for (size_t probes = 0; probes < kCapacity; ++probes, i = (i + 1) % kCapacity) {
      Slot& s = slots[i];
      if (!s.used.load(std::memory_order_relaxed)) {
        s.hash = h;
        s.len = static_cast<uint16_t>(key.size());
        for (size_t k = 0; k < key.size(); ++k) s.key[k] = key[k];
        s.used.store(true, std::memory_order_release);
        return s.row;
      }
      if (s.hash == h && std::string_view(s.key, s.len) == key) return s.row;
    }
    return overflow;
  }

  // Calls fn(label_text, row) for each used slot, then fn("_other", overflow). Metrics thread.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : slots) {
      if (!s.used.load(std::memory_order_acquire)) continue;
      fn(std::string_view(s.key, s.len), s.row);
    }
    fn(kOverflowLabel, overflow);
  }
};

}  // namespace ringside::shard
