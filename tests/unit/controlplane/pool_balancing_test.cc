// PoolBalancing (built on the control plane): Maglev and ring-hash keys are stable, move about
// 1/N of keys when one of N instances leaves, and honour weights; the weighted schedule spreads
// each instance by its weight; InstanceTable::find_pool hands shards the app's policy.
#include "controlplane/snapshot/pool_balancing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "controlplane/snapshot/instance_table.h"

namespace ringside::snapshot {
namespace {

std::vector<Instance> instances(int n, const std::string& app = "b", std::vector<uint32_t> weights = {}) {
  std::vector<Instance> out;
  for (int i = 0; i < n; ++i) {
    auto inst = make_instance(app, "", "10.0.0." + std::to_string(i + 1) + ":50002", "",
                              weights.empty() ? 1 : weights[i]);
    EXPECT_TRUE(inst.ok());
    out.push_back(*inst);
  }
  return out;
}

AppLoadBalancing hashed(LbPolicy p) { return AppLoadBalancing{p, "x-user"}; }

// The instance id each of `keys` maps to.
std::vector<uint64_t> owners(const std::vector<Instance>& pool, LbPolicy p, int keys) {
  PoolBalancing b = build_pool_balancing(pool, hashed(p));
  std::vector<uint64_t> out;
  for (int k = 0; k < keys; ++k) {
    int64_t i = b.hash_index(stable_hash("user-" + std::to_string(k)));
    EXPECT_GE(i, 0);
    out.push_back(pool[static_cast<size_t>(i)].id);
  }
  return out;
}

class ConsistentHash : public ::testing::TestWithParam<LbPolicy> {};

TEST_P(ConsistentHash, SameKeySameInstanceAcrossBuilds) {
  auto pool = instances(10);
  EXPECT_EQ(owners(pool, GetParam(), 2000), owners(pool, GetParam(), 2000));
}

TEST_P(ConsistentHash, OneOfNLeavingMovesAboutOneNthOfKeys) {
  constexpr int kKeys = 20000;
  auto pool = instances(10);
  std::vector<uint64_t> before = owners(pool, GetParam(), kKeys);
  const uint64_t gone = pool[3].id;
  pool.erase(pool.begin() + 3);
  std::vector<uint64_t> after = owners(pool, GetParam(), kKeys);
  int moved = 0, moved_off_survivors = 0;
  for (int k = 0; k < kKeys; ++k) {
    if (before[k] == after[k]) continue;
    ++moved;
    if (before[k] != gone) ++moved_off_survivors;
  }
  // Ideal: exactly the keys of the leaving instance (1/10) move. Maglev may reshuffle a few more.
  EXPECT_GT(moved, kKeys / 10 * 8 / 10);
  EXPECT_LT(moved, kKeys / 10 * 13 / 10);
  // Keys of surviving instances stay put: exactly for the ring; Maglev trades a little
  // disruption (a few % with a table of ~100 slots per instance) for its even spread.
  EXPECT_LT(moved_off_survivors, GetParam() == LbPolicy::kRingHash ? 1 : kKeys / 20);
}

TEST_P(ConsistentHash, KeysSpreadByWeight) {
  constexpr int kKeys = 40000;
  auto pool = instances(3, "b", {1, 1, 2});
  std::vector<uint64_t> o = owners(pool, GetParam(), kKeys);
  int counts[3] = {};
  for (uint64_t id : o) {
    for (int i = 0; i < 3; ++i) counts[i] += id == pool[i].id;
  }
  EXPECT_NEAR(counts[0], kKeys / 4, kKeys / 20);
  EXPECT_NEAR(counts[1], kKeys / 4, kKeys / 20);
  EXPECT_NEAR(counts[2], kKeys / 2, kKeys / 20);
}

TEST_P(ConsistentHash, ProbesWalkToOtherInstancesConsistently) {
  auto pool = instances(5);
  PoolBalancing b = build_pool_balancing(pool, hashed(GetParam()));
  const uint64_t key = stable_hash("user-7");
  std::vector<int64_t> seen;
  for (uint32_t p = 0; p < 40; ++p) seen.push_back(b.hash_index(key, p));
  PoolBalancing again = build_pool_balancing(pool, hashed(GetParam()));
  for (uint32_t p = 0; p < 40; ++p) EXPECT_EQ(again.hash_index(key, p), seen[p]);
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_GE(seen.size(), 3u);  // the fall-backs reach other instances
}

INSTANTIATE_TEST_SUITE_P(Policies, ConsistentHash, ::testing::Values(LbPolicy::kMaglev, LbPolicy::kRingHash),
                         [](const auto& info) { return info.param == LbPolicy::kMaglev ? "Maglev" : "RingHash"; });

TEST(PoolBalancing, MaglevTableSizeIsAPrimeAboutHundredTimesTheInstances) {
  EXPECT_EQ(maglev_table_size(1), 251u);
  EXPECT_EQ(maglev_table_size(10), 1021u);
  EXPECT_EQ(maglev_table_size(100), 16381u);
  EXPECT_EQ(maglev_table_size(100000), 65521u);
  auto pool = instances(10);
  EXPECT_EQ(build_pool_balancing(pool, hashed(LbPolicy::kMaglev)).maglev.size(), 1021u);
}

TEST(PoolBalancing, RingBucketsFindTheSamePointAsABinarySearch) {
  auto pool = instances(7, "b", {1, 2, 3, 1, 1, 5, 1});
  PoolBalancing b = build_pool_balancing(pool, hashed(LbPolicy::kRingHash));
  ASSERT_FALSE(b.ring.empty());
  for (uint64_t k = 0; k < 20000; ++k) {
    const uint64_t key = mix64(k);
    const uint32_t k32 = static_cast<uint32_t>(key >> 32);
    auto it = std::lower_bound(b.ring.begin(), b.ring.end(), k32,
                               [](const RingPoint& p, uint32_t v) { return p.hash < v; });
    const RingPoint& want = it == b.ring.end() ? b.ring.front() : *it;
    ASSERT_EQ(b.hash_index(key), want.index) << k;
  }
}

TEST(PoolBalancing, OnlyWhatThePolicyNeedsIsBuilt) {
  auto pool = instances(4);
  PoolBalancing rr = build_pool_balancing(pool, {});
  EXPECT_TRUE(rr.maglev.empty());
  EXPECT_TRUE(rr.ring.empty());
  EXPECT_TRUE(rr.schedule.empty());  // equal weights: no schedule
  EXPECT_EQ(rr.hash_index(123), -1);
}

TEST(PoolBalancing, WeightedScheduleInterleavesByWeight) {
  auto pool = instances(3, "b", {3, 1, 1});
  PoolBalancing b = build_pool_balancing(pool, {});
  ASSERT_EQ(b.schedule.size(), 5u);
  int counts[3] = {};
  for (uint16_t i : b.schedule) ++counts[i];
  EXPECT_EQ(counts[0], 3);
  EXPECT_EQ(counts[1], 1);
  EXPECT_EQ(counts[2], 1);
  // Smooth: the heavy instance never takes three slots in a row.
  for (size_t k = 0; k + 2 < b.schedule.size(); ++k)
    EXPECT_FALSE(b.schedule[k] == 0 && b.schedule[k + 1] == 0 && b.schedule[k + 2] == 0);
}

TEST(InstanceTablePools, EachAppGetsItsPolicyAndTables) {
  LoadBalancing lb;
  lb.defaults.policy = LbPolicy::kRandom;
  lb.apps["b"] = hashed(LbPolicy::kMaglev);
  std::vector<Instance> all = instances(3, "a");
  for (Instance& i : instances(4, "b")) all.push_back(i);
  auto t = InstanceTable::build(all, false, 1, {}, &lb);
  EXPECT_TRUE(t->any_hash_policy());
  InstanceTable::Pool a = t->find_pool("a", "");
  ASSERT_NE(a.balancing, nullptr);
  EXPECT_EQ(a.instances.size(), 3u);
  EXPECT_EQ(a.balancing->config.policy, LbPolicy::kRandom);
  EXPECT_TRUE(a.balancing->maglev.empty());
  InstanceTable::Pool b = t->find_pool("b", "");
  ASSERT_NE(b.balancing, nullptr);
  EXPECT_EQ(b.balancing->config.hash_header, "x-user");
  EXPECT_EQ(b.balancing->maglev.size(), maglev_table_size(4));
  EXPECT_EQ(t->find_pool("c", "").balancing, nullptr);
  // Without a hash policy anywhere, callers skip the key extraction.
  EXPECT_FALSE(InstanceTable::build(all, false, 2)->any_hash_policy());
  // A different configuration is a different table (published again).
  EXPECT_FALSE(t->same_contents(*InstanceTable::build(all, false, 3)));
}

TEST(InstanceTablePools, NamespacesGetTablesForExactlyTheirInstances) {
  LoadBalancing lb;
  lb.defaults = hashed(LbPolicy::kMaglev);
  std::vector<Instance> all;
  for (const char* ns : {"default", "prod"}) {
    for (int i = 0; i < 3; ++i) all.push_back(*make_instance("b", ns, "10.0." + std::string(ns == std::string("prod") ? "2" : "1") + "." + std::to_string(i + 1) + ":1"));
  }
  auto t = InstanceTable::build(all, true, 1, {}, &lb);
  InstanceTable::Pool prod = t->find_pool("b", "prod");
  ASSERT_EQ(prod.instances.size(), 3u);
  for (int k = 0; k < 100; ++k) {
    int64_t i = prod.balancing->hash_index(stable_hash(std::to_string(k)));
    ASSERT_GE(i, 0);
    ASSERT_LT(i, 3);
    EXPECT_EQ(prod.instances[i].app_namespace, "prod");
  }
  EXPECT_EQ(t->find_pool("b", "").instances.size(), 6u);
}

}  // namespace
}  // namespace ringside::snapshot
