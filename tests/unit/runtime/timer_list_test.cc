// TimerList: the shard's deadlines. Timers fire once, in deadline order (ties in arming order),
// cancel and re-arm take effect immediately, and wait_ns tells the loop how long it may sleep.
#include "dataplane/runtime/timer_list.h"

#include <gtest/gtest.h>

#include <string>
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

}  // namespace
}  // namespace ringside::shard
