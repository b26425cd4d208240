#pragma once
// LegacyPeers: peer sidecar addresses known not to serve CallLocalStream (daprd before 1.10
// answers UNIMPLEMENTED, spec §2.3), shared by every shard of the process. One shard learns it
// on one call; from then on every shard sends large bodies to that address as unary CallLocal
// at once, instead of each shard (and each of its connections) failing one streamed call that
// could no longer be replayed. Insert-only open addressing over atomics: no lock, no
// allocation, a few relaxed loads per lookup. An address stays listed for the life of the
// process (a peer upgraded in place keeps getting unary calls, which it still serves).
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ringside::upstream {

class LegacyPeers {
 public:
  static constexpr size_t kSlots = 1024;  // distinct legacy peer addresses remembered

  bool contains(uint64_t address_key) const {
    const uint64_t k = stored(address_key);
    for (size_t i = 0, at = slot_of(k); i < kMaxProbe; ++i, at = (at + 1) % kSlots) {
      const uint64_t v = slots_[at].load(std::memory_order_relaxed);
      if (v == k) return true;
      if (v == 0) return false;
    }
    return false;
  }

  // Any thread. Silently drops the address when its probe window is full.
  void insert(uint64_t address_key) {
    const uint64_t k = stored(address_key);
    for (size_t i = 0, at = slot_of(k); i < kMaxProbe; ++i, at = (at + 1) % kSlots) {
      uint64_t expected = 0;
      if (slots_[at].compare_exchange_strong(expected, k, std::memory_order_relaxed)) return;
      if (expected == k) return;
    }
  }

 private:
  static constexpr size_t kMaxProbe = 16;  // slots tried per key
  static uint64_t stored(uint64_t key) { return key == 0 ? 1 : key; }  // 0 marks an empty slot
  static size_t slot_of(uint64_t k) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 54) % kSlots; }

  std::atomic<uint64_t> slots_[kSlots] = {};  // address keys; 0 = empty
};

// The process's list (constant-initialized: no start-up order issue, no guard on access).
inline constinit LegacyPeers g_legacy_peers;

}  // namespace ringside::upstream
