#pragma once
// TimerList: the shard's deadlines (retry back-off, graceful shutdown). Intrusive and sorted by
// deadline; O(n) insert is fine for the handful of timers a shard holds at once, and nothing
// is allocated. The shard loop sleeps in io_uring no longer than until the first deadline.
#include <cstdint>
#include <ctime>

namespace ringside::shard {

inline int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

struct Timer {
  int64_t deadline_ns = 0;                 // CLOCK_MONOTONIC
  void (*fn)(void* owner) = nullptr;       // called once when due
  void* owner = nullptr;
  Timer* next = nullptr;                   // list link
  bool armed = false;                      // on the list
};

class TimerList {
 public:
  void arm(Timer* t, int64_t deadline_ns) {
    if (t->armed) cancel(t);
    t->deadline_ns = deadline_ns;
    Timer** p = &head_;
    while (*p && (*p)->deadline_ns <= deadline_ns) p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->armed = true;
  }
  void cancel(Timer* t) {
    if (!t->armed) return;
    for (Timer** p = &head_; *p; p = &(*p)->next) {
      if (*p == t) {
        *p = t->next;
        break;
      }
    }
    t->armed = false;
    t->next = nullptr;
  }
  // Fires every timer due at `now`. A callback may arm or cancel timers.
  void run_due(int64_t now) {
    while (head_ && head_->deadline_ns <= now) {
      Timer* t = head_;
      head_ = t->next;
      t->armed = false;
      t->next = nullptr;
      t->fn(t->owner);
    }
  }
  // Nanoseconds until the first deadline, capped at `cap`.
  int64_t wait_ns(int64_t now, int64_t cap) const {
    if (!head_) return cap;
    int64_t d = head_->deadline_ns - now;
    return d < 0 ? 0 : (d < cap ? d : cap);
  }

 private:
  Timer* head_ = nullptr;
};

}  // namespace ringside::shard
