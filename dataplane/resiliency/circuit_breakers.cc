#include "dataplane/resiliency/circuit_breakers.h"

#include <algorithm>

namespace ringside::resiliency {
namespace {

constexpr uint64_t kStateMask = 0x3;
constexpr int kFailShift = 2;
constexpr uint64_t kFailMask = (uint64_t{1} << 20) - 1;
constexpr int kAdmitShift = 22;
constexpr uint64_t kCountMask = (uint64_t{1} << 15) - 1;
constexpr int kSuccessShift = 37;
constexpr int kEpochShift = 52;
constexpr uint64_t kEpochMask = (uint64_t{1} << 12) - 1;

using State = CircuitBreakers::State;

State state(uint64_t w) { return static_cast<State>(w & kStateMask); }
uint64_t failures(uint64_t w) { return (w >> kFailShift) & kFailMask; }
uint64_t admitted(uint64_t w) { return (w >> kAdmitShift) & kCountMask; }
uint64_t successes(uint64_t w) { return (w >> kSuccessShift) & kCountMask; }
uint32_t epoch(uint64_t w) { return static_cast<uint32_t>((w >> kEpochShift) & kEpochMask); }

uint64_t make(State s, uint64_t fails, uint64_t admits, uint64_t succ, uint32_t ep) {
  return static_cast<uint64_t>(s) | (std::min(fails, kFailMask) << kFailShift) | ((admits & kCountMask) << kAdmitShift) |
         ((succ & kCountMask) << kSuccessShift) | ((uint64_t{ep} & kEpochMask) << kEpochShift);
}
// A new state: the epoch moves on so older admissions no longer count.
uint64_t next(uint64_t w, State s, uint64_t admits = 0) { return make(s, 0, admits, 0, epoch(w) + 1); }

}  // namespace

uint64_t breaker_key(std::string_view app_id, std::string_view method) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(app_id);
  mix(":");
  mix(method);
  return h == 0 ? 1 : h;
}

CircuitBreakers::CircuitBreakers(uint32_t capacity) {
  uint32_t n = kProbe;
  while (n < capacity) n <<= 1;
  slots_ = std::make_unique<Slot[]>(n);
  mask_ = n - 1;
}

CircuitBreakers::Slot* CircuitBreakers::find(uint64_t key) const {
  for (uint32_t i = 0; i < kProbe; ++i) {
    Slot& s = slots_[(key + i) & mask_];
    if (s.key.load(std::memory_order_acquire) == key) return &s;
  }
  return nullptr;
}

CircuitBreakers::Slot* CircuitBreakers::find_or_claim(uint64_t key, const BreakerPlan& plan, int64_t now_ns,
                                                      uint32_t* index) {
  for (int round = 0; round < 4; ++round) {
    uint32_t oldest = 0;
    int64_t oldest_ns = INT64_MAX;
    for (uint32_t i = 0; i < kProbe; ++i) {
      const uint32_t at = static_cast<uint32_t>((key + i) & mask_);
      Slot& s = slots_[at];
      uint64_t k = s.key.load(std::memory_order_acquire);
      if (k == key) {
        s.last_used_ns.store(now_ns, std::memory_order_relaxed);
        *index = at;
        return &s;
      }
      if (k == 0) {
        // A free slot: take it; a fresh key starts closed (the epoch moves on so results of
        // calls admitted for a previous owner do not count).
        if (s.key.compare_exchange_strong(k, key, std::memory_order_acq_rel)) {
          uint64_t w = s.word.load(std::memory_order_relaxed);
          s.until_ns.store(plan.interval_ns > 0 ? now_ns + plan.interval_ns : 0, std::memory_order_relaxed);
          s.word.store(next(w, State::kClosed), std::memory_order_release);
          s.last_used_ns.store(now_ns, std::memory_order_relaxed);
          *index = at;
          return &s;
        }
        if (k == key) {
          *index = at;
          return &s;
        }
      }
      const int64_t used = s.last_used_ns.load(std::memory_order_relaxed);
      if (used < oldest_ns) {
        oldest_ns = used;
        oldest = at;
      }
    }
    // Every slot of the window holds another key: take over the least recently used one.
    Slot& victim = slots_[oldest];
    uint64_t k = victim.key.load(std::memory_order_acquire);
    if (k != key && k != 0 && victim.key.compare_exchange_strong(k, key, std::memory_order_acq_rel)) {
      uint64_t w = victim.word.load(std::memory_order_relaxed);
      victim.until_ns.store(plan.interval_ns > 0 ? now_ns + plan.interval_ns : 0, std::memory_order_relaxed);
      victim.word.store(next(w, State::kClosed), std::memory_order_release);
      victim.last_used_ns.store(now_ns, std::memory_order_relaxed);
      *index = oldest;
      return &victim;
    }
  }
  return nullptr;  // lost every race (only under extreme contention): the call goes ahead
}

Admission CircuitBreakers::admit(uint64_t key, const BreakerPlan& plan, int64_t now_ns) {
  Admission a;
  Slot* s = find_or_claim(key, plan, now_ns, &a.slot);
  if (!s) {
    a.allowed = true;
    a.slot = UINT32_MAX;
    return a;
  }
  uint64_t w = s->word.load(std::memory_order_acquire);
  for (;;) {
    uint64_t want = w;
    switch (state(w)) {
      case State::kClosed: {
        const int64_t reset_at = s->until_ns.load(std::memory_order_relaxed);
        if (plan.interval_ns > 0 && reset_at > 0 && now_ns >= reset_at) {
          // A new counting interval (gobreaker: counts cleared every `interval` while closed).
          want = next(w, State::kClosed);
          if (s->word.compare_exchange_weak(w, want, std::memory_order_acq_rel)) {
            s->until_ns.store(now_ns + plan.interval_ns, std::memory_order_relaxed);
            w = want;
          }
          continue;
        }
        a.allowed = true;
        a.epoch = epoch(w);
        return a;
      }
      case State::kOpen:
        if (now_ns < s->until_ns.load(std::memory_order_relaxed)) {
          a.refusal = "circuit breaker is open";
          return a;
        }
        want = next(w, State::kHalfOpen, /*admits=*/1);  // this call is the first probe
        break;
      case State::kHalfOpen:
        if (admitted(w) >= plan.max_requests) {
          a.refusal = "too many requests";
          return a;
        }
        want = make(State::kHalfOpen, 0, admitted(w) + 1, successes(w), epoch(w));
        break;
    }
    if (s->word.compare_exchange_weak(w, want, std::memory_order_acq_rel)) {
      a.allowed = true;
      a.epoch = epoch(want);
      return a;
    }
  }
}

void CircuitBreakers::report(uint64_t key, const Admission& a, bool success, const BreakerPlan& plan,
                             int64_t now_ns) {
  if (a.slot > mask_) return;
  Slot& s = slots_[a.slot];
  if (s.key.load(std::memory_order_acquire) != key) return;  // evicted meanwhile
  uint64_t w = s.word.load(std::memory_order_acquire);
  for (;;) {
    if (epoch(w) != a.epoch) return;  // admitted under an older state: does not count
    uint64_t want = w;
    bool opens = false;
    switch (state(w)) {
      case State::kClosed:
        if (success) {
          if (failures(w) == 0) return;
          want = make(State::kClosed, 0, 0, 0, epoch(w));
        } else if (failures(w) + 1 >= plan.trip_failures) {
          want = next(w, State::kOpen);
          opens = true;
        } else {
          want = make(State::kClosed, failures(w) + 1, 0, 0, epoch(w));
        }
        break;
      case State::kOpen:
        return;
      case State::kHalfOpen:
        if (!success) {
          want = next(w, State::kOpen);
          opens = true;
        } else if (successes(w) + 1 >= plan.max_requests) {
          want = next(w, State::kClosed);
        } else {
          want = make(State::kHalfOpen, 0, admitted(w), successes(w) + 1, epoch(w));
        }
        break;
    }
    // The open deadline is written before the state that reads it is published.
    if (opens) s.until_ns.store(now_ns + plan.timeout_ns, std::memory_order_relaxed);
    if (s.word.compare_exchange_weak(w, want, std::memory_order_acq_rel)) {
      if (state(want) == State::kClosed && state(w) == State::kHalfOpen) {
        s.until_ns.store(plan.interval_ns > 0 ? now_ns + plan.interval_ns : 0, std::memory_order_relaxed);
      }
      return;
    }
  }
}

void CircuitBreakers::release(uint64_t key, const Admission& a) {
  if (a.slot > mask_) return;
  Slot& s = slots_[a.slot];
  if (s.key.load(std::memory_order_acquire) != key) return;
  uint64_t w = s.word.load(std::memory_order_acquire);
  while (epoch(w) == a.epoch && state(w) == State::kHalfOpen && admitted(w) > 0) {
    const uint64_t want = make(State::kHalfOpen, 0, admitted(w) - 1, successes(w), epoch(w));
    if (s.word.compare_exchange_weak(w, want, std::memory_order_acq_rel)) return;
  }
}

CircuitBreakers::State CircuitBreakers::state_of(uint64_t key) const {
  const Slot* s = find(key);
  return s ? state(s->word.load(std::memory_order_acquire)) : State::kClosed;
}

}  // namespace ringside::resiliency
