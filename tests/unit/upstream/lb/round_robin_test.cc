// RoundRobin: per-app-id cursors that cycle through the instances and keep their position
// whatever the other app ids do.
#include "dataplane/upstream/lb/round_robin.h"

#include <gtest/gtest.h>

#include <string>
#include <span>
#include <vector>

namespace ringside::lb {
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

// Through the Picker seam: instances of a table, some excluded (failed attempts of a call).
std::vector<snapshot::Instance> three_instances() {
  std::vector<snapshot::Instance> v(3);
  for (size_t i = 0; i < v.size(); ++i) {
    v[i].id = 100 + i;
    v[i].app_id = "orders";
  }
  return v;
}

TEST(RoundRobinPicker, CyclesThroughInstances) {
  RoundRobin rr;
  auto v = three_instances();
  Picker& picker = rr;
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(picker.pick({.app_id = "orders"}, v)->id);
  EXPECT_EQ(ids, (std::vector<uint64_t>{100, 101, 102, 100}));
}

TEST(RoundRobinPicker, StepsOverExcludedInstances) {
  RoundRobin rr;
  auto v = three_instances();
  const uint64_t failed[] = {101};
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(rr.pick(PickRequest{.app_id = "orders", .exclude = failed}, v)->id);
  }
  // Cursor positions 0,1,2,0: position 1 is excluded, so its turn goes to the next instance.
  EXPECT_EQ(ids, (std::vector<uint64_t>{100, 102, 102, 100}));
}

TEST(RoundRobinPicker, NothingWhenAllAreExcludedOrNoneExist) {
  RoundRobin rr;
  auto v = three_instances();
  const uint64_t failed[] = {100, 101, 102};
  EXPECT_EQ(rr.pick(PickRequest{.app_id = "orders", .exclude = failed}, v), nullptr);
  EXPECT_EQ(rr.pick(PickRequest{.app_id = "orders"}, std::span<const snapshot::Instance>{}),
            nullptr);
}

}  // namespace
}  // namespace ringside::lb
