#pragma once
// BusyPoll: the shard loop's wait for completions, with an optional adaptive spin before it
// blocks (--busy-poll-us, spec.ringside.dataplane.busyPollUs). Sleeping in io_uring_enter and
// being woken costs a context switch and a scheduler wake-up (tens of µs on a VM); when traffic
// is back-to-back the next completion often arrives sooner than that, so spinning briefly
// answers it sooner. Adaptive so an idle sidecar does not burn a core: it spins only after a
// turn that had completions, and after each spin that found nothing it skips spinning for
// twice as many turns as before (up to kMaxSkip) until a spin finds work again.
//
// Shard thread only; no allocation, no locks. Spinning calls io_uring_get_events (a
// non-blocking io_uring_enter): with DEFER_TASKRUN completions are only posted when we ask.
#include <liburing.h>

#include <algorithm>
#include <cstdint>
#include <ctime>

#include "dataplane/io/ring.h"

namespace ringside::shard {

class BusyPoll {
 public:
  explicit BusyPoll(uint32_t budget_us) : budget_ns_(int64_t{budget_us} * 1000) {}

  // Submits what is queued and returns once completions are ready or timeout_ns has passed.
  void wait(io::Ring& ring, int64_t timeout_ns) {
    if (budget_ns_ > 0 && last_had_work_) {
      if (skip_ > 0) {
        --skip_;
      } else if (spin(ring, std::min(timeout_ns, budget_ns_))) {
        misses_ = 0;
        return;  // last_had_work_ stays true: keep spinning while traffic keeps coming
      } else {
        misses_ = std::min(misses_ + 1, kMaxMissShift);
        skip_ = (1u << misses_) - 1;
      }
    }
    ring.submit_and_wait(timeout_ns);
    last_had_work_ = io_uring_cq_ready(ring.raw()) > 0;
  }

  uint64_t spins_with_work() const { return hits_; }  // spins that found a completion (tests, tuning)

 private:
  static constexpr uint32_t kMaxMissShift = 6;  // at most 63 turns without spinning after misses

  static int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no system call
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
  }

  bool spin(io::Ring& ring, int64_t budget_ns) {
    io_uring* raw = ring.raw();
    io_uring_submit(raw);  // our sends must leave before we wait for their answers
    const int64_t deadline = now_ns() + budget_ns;
    do {
      io_uring_get_events(raw);
      if (io_uring_cq_ready(raw) > 0) {
        ++hits_;
        return true;
      }
    } while (now_ns() < deadline);
    return false;
  }

  int64_t budget_ns_;          // spin at most this long per turn; 0 = never spin
  bool last_had_work_ = false; // the previous wait ended with completions
  uint32_t misses_ = 0;        // consecutive spins that found nothing (capped at kMaxMissShift)
  uint32_t skip_ = 0;          // turns left before the next spin is tried
  uint64_t hits_ = 0;          // spins that found a completion
};

}  // namespace ringside::shard
