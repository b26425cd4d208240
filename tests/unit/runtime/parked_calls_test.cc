#include "dataplane/runtime/parked_calls.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace ringside::shard {
namespace {

// A call that records what happened to it and, when told to, parks again or ends another call.
class Call final : public ParkedCall {
 public:
  Call(ParkedCalls* parked, std::vector<int>* log, int id) : parked_(parked), log_(log), id_(id) {}
  void on_table_changed() override {
    log_->push_back(id_);
    if (park_again_) parked_->park(this, deadline_);
    if (end_other_) parked_->unpark(end_other_);
  }
  void on_park_timeout() override { log_->push_back(-id_); }
  bool park_again_ = false;      // re-park on the next table
  Call* end_other_ = nullptr;    // unpark this other call from our callback
  int64_t deadline_ = 1000;      // deadline used when re-parking

 private:
  ParkedCalls* parked_;   // the list
  std::vector<int>* log_; // ids: +id retried, -id timed out
  int id_;                // our id
};

TEST(ParkedCallsTest, ANewTableRetriesEveryParkedCallOnce) {
  TimerList timers;
  ParkedCalls parked(&timers);
  std::vector<int> log;
  Call a(&parked, &log, 1), b(&parked, &log, 2), c(&parked, &log, 3);
  parked.park(&a, 1000);
  parked.park(&b, 1000);
  parked.park(&c, 1000);
  b.park_again_ = true;  // b's app id is still unknown in this table
  EXPECT_EQ(parked.size(), 3u);
  parked.on_new_table();
  std::sort(log.begin(), log.end());
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));  // b retried once, not in a loop
  EXPECT_EQ(parked.size(), 1u);
  EXPECT_TRUE(b.parked());
  EXPECT_FALSE(a.parked());
}

TEST(ParkedCallsTest, TheBoundFiresOnceAndUnparkCancelsIt) {
  TimerList timers;
  ParkedCalls parked(&timers);
  std::vector<int> log;
  Call a(&parked, &log, 1), b(&parked, &log, 2);
  parked.park(&a, 100);
  parked.park(&b, 200);
  parked.unpark(&b);  // its client went away
  timers.run_due(150);
  EXPECT_EQ(log, (std::vector<int>{-1}));
  timers.run_due(1000);
  EXPECT_EQ(log, (std::vector<int>{-1}));
  EXPECT_EQ(parked.size(), 0u);
  parked.on_new_table();  // nothing parked: nothing retried
  EXPECT_EQ(log, (std::vector<int>{-1}));
}

TEST(ParkedCallsTest, ACallbackMayEndAnotherParkedCall) {
  TimerList timers;
  ParkedCalls parked(&timers);
  std::vector<int> log;
  Call a(&parked, &log, 1), b(&parked, &log, 2);
  parked.park(&a, 100);
  parked.park(&b, 100);
  a.end_other_ = &b;     // a (parked first, retried first) ends b, e.g. they share a connection
  parked.on_new_table();
  EXPECT_EQ(log, (std::vector<int>{1}));
  EXPECT_EQ(parked.size(), 0u);
  timers.run_due(1000);  // b's bound was cancelled with it
  EXPECT_EQ(log, (std::vector<int>{1}));
}

}  // namespace
}  // namespace ringside::shard
