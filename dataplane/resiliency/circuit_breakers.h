#pragma once
// CircuitBreakers: the circuit breaker state of every `<appId>:<method>` key, shared by all the
// shards of a sidecar (daprd keeps one breaker per key per process too).
//
// A fixed-capacity table allocated once at start-up: no lock, no allocation per call. Keys are
// 64-bit hashes of "<appId>:<method>" (two keys with the same hash share a breaker; with 64 bits
// this is not expected in practice). A key lives in one of kProbe consecutive slots from its
// hash (open addressing); when all of them hold other keys, the least recently used one of the
// window is taken over (LRU-ish eviction; the evicted key starts closed again when it comes
// back, as daprd's per-app LRU cache of 100 breakers does).
//
// Each slot's state is one 64-bit word changed by compare-and-swap:
//   bits 0-1 state (closed, open, half-open) | 2-21 consecutive failures | 22-36 half-open
//   probes admitted | 37-51 half-open successes | 52-63 epoch
// Every state change (and an eviction) bumps the epoch; an admission carries the epoch it was
// given, and its outcome counts only while the epoch is unchanged (gobreaker's "generation"):
// an answer to a call admitted before the breaker opened does not close it.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "dataplane/resiliency/policies.h"

namespace ringside::resiliency {

// FNV-1a of "<app_id>:<method>"; never 0 (0 marks a free slot).
uint64_t breaker_key(std::string_view app_id, std::string_view method);

struct Admission {
  bool allowed = false;      // the call may go ahead
  const char* refusal = "";  // daprd's error text when refused
  uint32_t slot = 0;         // where the key lives (for report/release)
  uint32_t epoch = 0;        // state generation the call was admitted in
};

class CircuitBreakers {
 public:
  static constexpr uint32_t kProbe = 8;  // slots a key may live in

  explicit CircuitBreakers(uint32_t capacity);  // rounded up to a power of two
  CircuitBreakers(const CircuitBreakers&) = delete;
  CircuitBreakers& operator=(const CircuitBreakers&) = delete;

  // Whether a call for `key` may go out now: closed → yes; open → "circuit breaker is open"
  // until its timeout, then half-open; half-open → up to max_requests probes ("too many
  // requests" beyond).
  Admission admit(uint64_t key, const BreakerPlan& plan, int64_t now_ns);
  // The admitted call's outcome.
  void report(uint64_t key, const Admission& a, bool success, const BreakerPlan& plan, int64_t now_ns);
  // The admitted call ended without an outcome (caller gone): a half-open probe is given back.
  void release(uint64_t key, const Admission& a);

  enum class State : uint32_t { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
  // For tests and metrics: the state of `key` (closed when unknown).
  State state_of(uint64_t key) const;
  uint32_t capacity() const { return mask_ + 1; }

 private:
  struct alignas(32) Slot {
    std::atomic<uint64_t> key{0};           // owner key hash; 0 = free
    std::atomic<uint64_t> word{0};          // state word (see above)
    std::atomic<int64_t> until_ns{0};       // open: when it half-opens; closed: next counter reset
    std::atomic<int64_t> last_used_ns{0};   // for eviction
  };
  Slot* find(uint64_t key) const;
  Slot* find_or_claim(uint64_t key, const BreakerPlan& plan, int64_t now_ns, uint32_t* index);

  std::unique_ptr<Slot[]> slots_;  // capacity_ slots
  uint32_t mask_ = 0;              // capacity - 1
};

}  // namespace ringside::resiliency
