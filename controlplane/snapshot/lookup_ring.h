// LookupRing: a shard's bounded single-producer/single-consumer queue of "the table has no entry
// for this app id, please look it up" requests to the control plane. Fixed slots, no allocation:
// the shard pushes on a miss (rare), the control-plane thread pops. A full ring or an app id
// too long for a slot makes push() fail; the caller then fails the call at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringside::snapshot {

class LookupRing {
 public:
  static constexpr size_t kSlots = 64;          // outstanding requests per shard
  static constexpr size_t kTextBytes = 250;     // app id + namespace bytes per request

  // Producer (the shard). False when full or the text does not fit.
  bool push(std::string_view app_id, std::string_view ns) {
    if (app_id.size() + ns.size() > kTextBytes) return false;
    const uint32_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) == kSlots) return false;
    Slot& s = slots_[head % kSlots];
    s.app_len = static_cast<uint16_t>(app_id.size());
    s.ns_len = static_cast<uint16_t>(ns.size());
    std::memcpy(s.text, app_id.data(), app_id.size());
    std::memcpy(s.text + app_id.size(), ns.data(), ns.size());
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer (the control plane): calls fn(app_id, ns) for each queued request, in order.
  template <typename Fn>
  void drain(Fn&& fn) {
    uint32_t tail = tail_.load(std::memory_order_relaxed);
    const uint32_t head = head_.load(std::memory_order_acquire);
    for (; tail != head; ++tail) {
      const Slot& s = slots_[tail % kSlots];
      fn(std::string_view(s.text, s.app_len), std::string_view(s.text + s.app_len, s.ns_len));
    }
    tail_.store(tail, std::memory_order_release);
  }

 private:
  struct Slot {
    uint16_t app_len = 0;      // bytes of app id at the start of text
    uint16_t ns_len = 0;       // bytes of namespace after it
    char text[kTextBytes];     // app id then namespace
  };
  alignas(64) std::atomic<uint32_t> head_{0};  // next slot to fill (producer)
  alignas(64) std::atomic<uint32_t> tail_{0};  // next slot to read (consumer)
  Slot slots_[kSlots];                         // the requests
};

}  // namespace ringside::snapshot
