#pragma once
// TimerList: the shard's deadlines (retry back-off, call deadlines, keepalives, graceful
// shutdown), as a hierarchical timer wheel: arm and cancel are O(1) (one intrusive
// doubly-linked slot list per wheel slot, a bit per non-empty slot), firing costs O(timers
// moved), nothing is allocated. The shard loop sleeps in io_uring no longer than until the first
// deadline (wait_ns), which is cached so a loop turn does not rescan the wheel.
//
// Layout: kLevels levels of 64 slots; a level-0 slot spans one tick (2^16 ns = 65.5 µs), a
// level-l slot 64^l ticks, so the levels reach 4.2 ms, 268 ms, 17 s, 19 min and 20 h ahead.
// A timer sits on the lowest level whose 64 slots reach its deadline (farther ones sit in the
// top level's last slot and are placed again when that slot is reached). When run_due reaches a
// slot, its timers are either due (fired) or re-placed on a lower level: deadlines are exact to
// the nanosecond, the tick only decides where a timer waits. Due timers fire in deadline order,
// equal deadlines in arming order (a per-wheel arming sequence number breaks ties).
#include <cstdint>
#include <ctime>

namespace ringside::shard {

inline int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

struct Timer {
  int64_t deadline_ns = 0;             // CLOCK_MONOTONIC
  void (*fn)(void* owner) = nullptr;   // called once when due
  void* owner = nullptr;               // passed to fn
  Timer* next = nullptr;               // slot (or due) list link
  Timer** pprev = nullptr;             // the pointer that points at us: O(1) unlink from any list
  uint64_t seq = 0;                    // arming order, breaks deadline ties
  int16_t slot = -1;                   // level * 64 + index while in a wheel slot; -1 in the due list
  bool armed = false;                  // in a slot or in the due list
};

class TimerList {
 public:
  static constexpr int kTickShift = 16;  // level-0 slot width: 2^16 ns
  static constexpr int kSlotBits = 6;    // 64 slots per level (one uint64_t bitmap)
  static constexpr int kSlots = 1 << kSlotBits;
  static constexpr int kLevels = 5;

  void arm(Timer* t, int64_t deadline_ns) {
    if (t->armed) cancel(t);
    t->deadline_ns = deadline_ns;
    t->seq = ++seq_;
    t->armed = true;
    if (firing_ && deadline_ns <= now_ns_) {
      insert_due(t);  // due within the run_due in progress, as the sorted list always did
    } else {
      place(t);
    }
    if (earliest_valid_ && deadline_ns < earliest_ns_) earliest_ns_ = deadline_ns;
  }

  void cancel(Timer* t) {
    if (!t->armed) return;
    unlink(t);
    t->armed = false;
    if (earliest_valid_ && t->deadline_ns <= earliest_ns_) earliest_valid_ = false;
  }

  // Fires every timer due at `now`. A callback may arm or cancel timers (itself included).
  void run_due(int64_t now) {
    if (now < now_ns_) now = now_ns_;  // the clock is monotonic; a caller's older `now` changes nothing
    // Take every reached slot's timers out, move the wheel to `now`, then put each back:
    // due ones into the due list, the others into the slot their deadline now maps to.
    Timer* moved = nullptr;
    const uint64_t from = tick(now_ns_);
    const uint64_t to = tick(now);
    for (int level = 0; level < kLevels; ++level) {
      const int shift = level * kSlotBits;
      const uint64_t first = (from >> shift) + (level == 0 ? 0 : 1);  // level 0: the current slot too
      const uint64_t last = to >> shift;
      if (last < first) break;  // higher levels move even less
      const uint64_t span = last - first + 1;
      uint64_t reached = span >= kSlots ? ~uint64_t{0} : rotl(mask(span), first & (kSlots - 1));
      reached &= bitmap_[level];
      while (reached) {
        const int index = __builtin_ctzll(reached);
        reached &= reached - 1;
        Timer*& head = slots_[level][index];
        while (Timer* t = head) {
          unlink(t);
          t->next = moved;
          moved = t;
        }
      }
    }
    now_ns_ = now;
    earliest_valid_ = false;
    while (Timer* t = moved) {
      moved = t->next;
      if (t->deadline_ns <= now) {
        insert_due(t);
      } else {
        place(t);
      }
    }
    firing_ = true;
    while (Timer* t = due_) {
      unlink(t);
      t->armed = false;
      t->fn(t->owner);
    }
    firing_ = false;
  }

  // Nanoseconds until the first deadline, capped at `cap`.
  int64_t wait_ns(int64_t now, int64_t cap) const {
    if (!earliest_valid_) {
      earliest_ns_ = find_earliest();
      earliest_valid_ = true;
    }
    if (earliest_ns_ == kNone) return cap;
    const int64_t d = earliest_ns_ - now;
    return d < 0 ? 0 : (d < cap ? d : cap);
  }

 private:
  static constexpr int64_t kNone = INT64_MAX;

  static uint64_t tick(int64_t ns) { return ns <= 0 ? 0 : static_cast<uint64_t>(ns) >> kTickShift; }
  static uint64_t mask(uint64_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }
  static uint64_t rotl(uint64_t v, unsigned r) { return r == 0 ? v : (v << r) | (v >> (64 - r)); }

  // Into the wheel: the lowest level whose slots reach the deadline (past deadlines: the
  // current level-0 slot, looked at by the next run_due).
  void place(Timer* t) {
    const uint64_t cur = tick(now_ns_);
    uint64_t at = tick(t->deadline_ns);
    if (at < cur) at = cur;
    int level = 0;
    while (level < kLevels - 1 && ((at >> (level * kSlotBits)) - (cur >> (level * kSlotBits))) >= kSlots) ++level;
    const int shift = level * kSlotBits;
    uint64_t slot_tick = at >> shift;
    if (slot_tick - (cur >> shift) >= kSlots) slot_tick = (cur >> shift) + kSlots - 1;  // beyond the top level
    const int index = static_cast<int>(slot_tick & (kSlots - 1));
    push(&slots_[level][index], t);
    t->slot = static_cast<int16_t>(level * kSlots + index);
    bitmap_[level] |= uint64_t{1} << index;
  }

  // Into the due list, sorted by (deadline, arming order); it only ever holds this turn's timers.
  void insert_due(Timer* t) {
    Timer** p = &due_;
    while (*p && ((*p)->deadline_ns < t->deadline_ns ||
                  ((*p)->deadline_ns == t->deadline_ns && (*p)->seq < t->seq))) {
      p = &(*p)->next;
    }
    push(p, t);
    t->slot = -1;
  }

  static void push(Timer** at, Timer* t) {
    t->next = *at;
    if (t->next) t->next->pprev = &t->next;
    t->pprev = at;
    *at = t;
  }

  void unlink(Timer* t) {
    *t->pprev = t->next;
    if (t->next) t->next->pprev = t->pprev;
    if (t->slot >= 0) {
      const int level = t->slot / kSlots;
      const int index = t->slot % kSlots;
      if (!slots_[level][index]) bitmap_[level] &= ~(uint64_t{1} << index);
    }
    t->next = nullptr;
    t->pprev = nullptr;
    t->slot = -1;
  }

  // Each level's slots in time order start at its cursor, so the earliest deadline is in the
  // first non-empty slot of some level.
  int64_t find_earliest() const {
    int64_t best = kNone;
    for (const Timer* t = due_; t; t = t->next) best = t->deadline_ns < best ? t->deadline_ns : best;
    const uint64_t cur = tick(now_ns_);
    for (int level = 0; level < kLevels; ++level) {
      if (!bitmap_[level]) continue;
      const unsigned start = static_cast<unsigned>(((cur >> (level * kSlotBits)) + (level == 0 ? 0 : 1)) & (kSlots - 1));
      const uint64_t rotated = rotl(bitmap_[level], (kSlots - start) & (kSlots - 1));  // bit 0 = start
      const int index = static_cast<int>((start + __builtin_ctzll(rotated)) & (kSlots - 1));
      for (const Timer* t = slots_[level][index]; t; t = t->next) best = t->deadline_ns < best ? t->deadline_ns : best;
    }
    return best;
  }

  Timer* slots_[kLevels][kSlots] = {};  // slot lists, unsorted
  uint64_t bitmap_[kLevels] = {};       // bit i: slots_[level][i] is not empty
  Timer* due_ = nullptr;                // timers due in the run_due in progress, sorted
  int64_t now_ns_ = 0;                  // the `now` of the last run_due: where the wheel stands
  uint64_t seq_ = 0;                    // arming counter
  bool firing_ = false;                 // inside run_due's callbacks
  mutable int64_t earliest_ns_ = kNone; // cached first deadline (kNone: no timer)
  mutable bool earliest_valid_ = true;  // false after a cancel or run_due may have removed it
};

}  // namespace ringside::shard
