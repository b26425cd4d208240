// RoundRobin: per-app-id cursors that cycle through the instances and keep their position
// whatever the other app ids do.
#include "dataplane/invoke/round_robin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringside::invoke {
namespace {

TEST(RoundRobin, CyclesThroughAllInstancesInOrder) {
  RoundRobin rr;
  std::vector<size_t> picks;
  for (int i = 0; i < 7; ++i) picks.push_back(rr.pick("orders", 3));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(RoundRobin, EachAppIdHasItsOwnCursor) {
  RoundRobin rr;
  EXPECT_EQ(rr.pick("a", 2), 0u);
  EXPECT_EQ(rr.pick("a", 2), 1u);
  EXPECT_EQ(rr.pick("b", 2), 0u);  // untouched by a's picks
  EXPECT_EQ(rr.pick("a", 2), 0u);
  EXPECT_EQ(rr.pick("b", 2), 1u);
  std::string same = "a";  // keyed by content, not by the pointer
  EXPECT_EQ(rr.pick(same, 2), 1u);
}

TEST(RoundRobin, StaysInRangeWhenTheInstanceCountChanges) {
  RoundRobin rr;
  for (size_t n : {5u, 1u, 3u, 2u, 7u, 1u}) {
    for (int i = 0; i < 10; ++i) EXPECT_LT(rr.pick("svc", n), n);
  }
  EXPECT_EQ(rr.pick("single", 1), 0u);
  EXPECT_EQ(rr.pick("single", 1), 0u);
}

TEST(RoundRobin, SpreadsEvenly) {
  RoundRobin rr;
  std::vector<int> hits(4);
  for (int i = 0; i < 400; ++i) ++hits[rr.pick("even", 4)];
  EXPECT_EQ(hits, (std::vector<int>{100, 100, 100, 100}));
}

}  // namespace
}  // namespace ringside::invoke
