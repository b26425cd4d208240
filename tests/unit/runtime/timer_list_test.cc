// TimerList: the shard's deadlines. Timers fire once, in deadline order (ties in arming order),
// cancel and re-arm take effect immediately, and wait_ns tells the loop how long it may sleep.
#include "dataplane/runtime/timer_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace ringside::shard {
namespace {

// A timer that records its name into a shared log when it fires.
struct NamedTimer {
  Timer timer;                    // the intrusive timer under test
  std::string name;               // what goes into the log
  std::vector<std::string>* log;  // fire order
  TimerList* list = nullptr;      // for callbacks that act on the list
  NamedTimer* other = nullptr;    // callback target (cancel/re-arm tests)
  int64_t rearm_at = -1;          // >= 0: the callback re-arms itself at this deadline

  NamedTimer(std::string n, std::vector<std::string>* l) : name(std::move(n)), log(l) {
    timer.fn = &NamedTimer::fire;
    timer.owner = this;
  }
  static void fire(void* self) {
    auto* t = static_cast<NamedTimer*>(self);
    t->log->push_back(t->name);
    if (t->other && t->list) t->list->cancel(&t->other->timer);
    if (t->rearm_at >= 0 && t->list) {
      int64_t at = t->rearm_at;
      t->rearm_at = -1;  // only once
      t->list->arm(&t->timer, at);
    }
  }
};

TEST(TimerList, FiresInDeadlineOrderRegardlessOfArmingOrder) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log), b("b", &log), c("c", &log);
  list.arm(&c.timer, 300);
  list.arm(&a.timer, 100);
  list.arm(&b.timer, 200);
  list.run_due(1000);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(a.timer.armed);
  EXPECT_FALSE(c.timer.armed);
}

TEST(TimerList, EqualDeadlinesFireInArmingOrder) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log), b("b", &log), c("c", &log);
  list.arm(&a.timer, 50);
  list.arm(&b.timer, 50);
  list.arm(&c.timer, 50);
  list.run_due(50);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(TimerList, OnlyDueTimersFireAndEachFiresOnce) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log), b("b", &log);
  list.arm(&a.timer, 100);
  list.arm(&b.timer, 200);
  list.run_due(99);
  EXPECT_TRUE(log.empty());
  list.run_due(100);  // deadline == now is due
  EXPECT_EQ(log, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(b.timer.armed);
  list.run_due(150);
  EXPECT_EQ(log.size(), 1u);
  list.run_due(500);
  list.run_due(600);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
}

TEST(TimerList, CancelledTimersNeverFire) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log), b("b", &log), c("c", &log), d("d", &log);
  list.arm(&a.timer, 1);
  list.arm(&b.timer, 2);
  list.arm(&c.timer, 3);
  list.arm(&d.timer, 4);
  list.cancel(&b.timer);  // middle
  list.cancel(&a.timer);  // head
  list.cancel(&d.timer);  // tail
  EXPECT_FALSE(a.timer.armed);
  list.cancel(&a.timer);  // cancelling twice is harmless
  list.run_due(10);
  EXPECT_EQ(log, (std::vector<std::string>{"c"}));
}

TEST(TimerList, CancellingAnUnarmedTimerIsANoOp) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log), never("never", &log);
  list.arm(&a.timer, 5);
  list.cancel(&never.timer);
  list.run_due(5);
  EXPECT_EQ(log, (std::vector<std::string>{"a"}));
}

TEST(TimerList, ReArmingMovesTheDeadlineAndStillFiresOnce) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log), b("b", &log);
  list.arm(&a.timer, 100);
  list.arm(&b.timer, 200);
  list.arm(&a.timer, 300);  // later than b now
  EXPECT_EQ(list.wait_ns(0, 1000), 200);
  list.run_due(1000);
  EXPECT_EQ(log, (std::vector<std::string>{"b", "a"}));
  list.arm(&a.timer, 2000);  // a fired timer can be armed again
  list.arm(&a.timer, 1500);  // and moved earlier
  list.run_due(1600);
  EXPECT_EQ(log, (std::vector<std::string>{"b", "a", "a"}));
  list.run_due(5000);
  EXPECT_EQ(log.size(), 3u);
}

TEST(TimerList, ACallbackMayReArmItselfForLater) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log);
  a.list = &list;
  a.rearm_at = 500;
  list.arm(&a.timer, 100);
  list.run_due(200);
  EXPECT_EQ(log, (std::vector<std::string>{"a"}));  // not again within this pass
  EXPECT_TRUE(a.timer.armed);
  EXPECT_EQ(list.wait_ns(200, 10000), 300);
  list.run_due(500);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "a"}));
}

TEST(TimerList, ACallbackMayCancelAnotherDueTimer) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log), b("b", &log), c("c", &log);
  a.list = &list;
  a.other = &b;
  list.arm(&a.timer, 1);
  list.arm(&b.timer, 2);
  list.arm(&c.timer, 3);
  list.run_due(10);
  EXPECT_EQ(log, (std::vector<std::string>{"a", "c"}));
}

TEST(TimerList, WaitNsIsTimeToTheFirstDeadlineCappedAndNeverNegative) {
  std::vector<std::string> log;
  TimerList list;
  EXPECT_EQ(list.wait_ns(1000, 777), 777);  // nothing armed: sleep the cap
  NamedTimer a("a", &log), b("b", &log);
  list.arm(&b.timer, 5000);
  list.arm(&a.timer, 3000);
  EXPECT_EQ(list.wait_ns(1000, 1000000), 2000);
  EXPECT_EQ(list.wait_ns(1000, 1500), 1500);
  EXPECT_EQ(list.wait_ns(3000, 1000000), 0);
  EXPECT_EQ(list.wait_ns(9000, 1000000), 0);  // overdue
  list.cancel(&a.timer);
  EXPECT_EQ(list.wait_ns(1000, 1000000), 4000);
}

TEST(TimerList, WorksWithTheMonotonicClock) {
  std::vector<std::string> log;
  TimerList list;
  NamedTimer a("a", &log);
  int64_t t0 = monotonic_ns();
  EXPECT_GT(t0, 0);
  list.arm(&a.timer, t0 + 1000000000);
  int64_t w = list.wait_ns(monotonic_ns(), int64_t{5} * 1000000000);
  EXPECT_GT(w, 0);
  EXPECT_LE(w, 1000000000);
  list.run_due(monotonic_ns());
  EXPECT_TRUE(log.empty());
  EXPECT_GE(monotonic_ns(), t0);
  list.cancel(&a.timer);
}

// Timers hours and days ahead (beyond the wheel's top level) wait in the wheel and still fire
// exactly at their deadline, not a tick early, after the clock crossed every level.
TEST(TimerList, FarTimersFireAtTheirExactDeadline) {
  std::vector<std::string> log;
  TimerList list;
  const int64_t t0 = int64_t{1} << 40;  // a boot-time-like clock value
  list.run_due(t0);
  constexpr int64_t kHour = int64_t{3600} * 1000000000;
  NamedTimer day("day", &log), hour("hour", &log), week("week", &log);
  list.arm(&week.timer, t0 + 7 * 24 * kHour);
  list.arm(&day.timer, t0 + 24 * kHour);
  list.arm(&hour.timer, t0 + kHour);
  EXPECT_EQ(list.wait_ns(t0, INT64_MAX), kHour);
  // Walk the clock forward in uneven steps (every level's cursor moves, slots are re-placed).
  for (int64_t now = t0; now < t0 + kHour - 1; now += 7777777777) list.run_due(now);
  list.run_due(t0 + kHour - 1);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(list.wait_ns(t0 + kHour - 1, INT64_MAX), 1);
  list.run_due(t0 + kHour);
  EXPECT_EQ(log, (std::vector<std::string>{"hour"}));
  list.run_due(t0 + 24 * kHour - 1);  // one jump across 23 hours
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(list.wait_ns(t0 + 24 * kHour - 1, INT64_MAX), 1);
  list.run_due(t0 + 24 * kHour);
  list.run_due(t0 + 7 * 24 * kHour - 1);
  EXPECT_EQ(log, (std::vector<std::string>{"hour", "day"}));
  list.run_due(t0 + 7 * 24 * kHour);
  EXPECT_EQ(log, (std::vector<std::string>{"hour", "day", "week"}));
  EXPECT_EQ(list.wait_ns(t0, 5), 5);  // empty again
}

// Many timers, armed, cancelled and re-armed at random over a wide range of deadlines while the
// clock advances in random steps: the wheel fires exactly what a plain sorted reference fires,
// in the same order, and wait_ns always names the reference's first deadline.
TEST(TimerList, MatchesASortedReferenceUnderRandomArmCancelAndReArm) {
  struct Fired {
    std::vector<int>* log;  // ids in firing order
    int id;                 // this timer's id
    static void fire(void* self) {
      auto* f = static_cast<Fired*>(self);
      f->log->push_back(f->id);
    }
  };
  constexpr int kTimers = 300;
  std::vector<int> log;
  std::vector<Timer> timers(kTimers);
  std::vector<Fired> owners(kTimers);
  // Reference: id -> (deadline, arming sequence) while armed.
  std::vector<std::pair<int64_t, uint64_t>> ref(kTimers, {-1, 0});
  uint64_t seq = 0;
  for (int i = 0; i < kTimers; ++i) {
    owners[i] = {&log, i};
    timers[i].fn = &Fired::fire;
    timers[i].owner = &owners[i];
  }
  TimerList list;
  std::mt19937_64 rng(42);
  int64_t now = int64_t{1} << 50;  // deadlines stay positive: -1 marks "not armed" in the reference
  list.run_due(now);
  const int64_t ranges[] = {1000, 70000, 5000000, 300000000, int64_t{20} * 1000000000, int64_t{100000} * 1000000000};
  int fired_total = 0;
  for (int step = 0; step < 20000; ++step) {
    const int id = static_cast<int>(rng() % kTimers);
    switch (rng() % 4) {
      case 0:
      case 1: {  // arm or re-arm; sometimes in the past
        const int64_t range = ranges[rng() % 6];
        const int64_t deadline = now + static_cast<int64_t>(rng() % static_cast<uint64_t>(range)) - (rng() % 8 == 0 ? range / 2 : 0);
        list.arm(&timers[id], deadline);
        ref[id] = {deadline, ++seq};
        break;
      }
      case 2:
        list.cancel(&timers[id]);
        ref[id] = {-1, 0};
        break;
      default: {  // advance the clock and compare what fired
        now += static_cast<int64_t>(rng() % static_cast<uint64_t>(ranges[rng() % 5]));
        std::vector<std::pair<std::pair<int64_t, uint64_t>, int>> due;
        for (int i = 0; i < kTimers; ++i) {
          if (ref[i].first >= 0 && ref[i].first <= now) due.push_back({ref[i], i});
        }
        std::sort(due.begin(), due.end());
        std::vector<int> expected;
        for (auto& d : due) {
          expected.push_back(d.second);
          ref[d.second] = {-1, 0};
        }
        log.clear();
        list.run_due(now);
        ASSERT_EQ(log, expected) << "step " << step << " now " << now;
        fired_total += static_cast<int>(log.size());
        int64_t first = INT64_MAX;
        for (auto& r : ref) {
          if (r.first >= 0) first = std::min(first, r.first);
        }
        const int64_t cap = int64_t{1} << 62;
        ASSERT_EQ(list.wait_ns(now, cap), first == INT64_MAX ? cap : std::max<int64_t>(0, first - now)) << "step " << step;
      }
    }
    for (int i = 0; i < kTimers; ++i) ASSERT_EQ(timers[i].armed, ref[i].first >= 0) << "timer " << i << " step " << step;
  }
  EXPECT_GT(fired_total, 1000);  // the walk really fired timers
}

}  // namespace
}  // namespace ringside::shard
