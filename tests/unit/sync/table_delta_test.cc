// compute_delta() against apply_delta(): for random old/new tables, applying the delta to the
// old table gives the new one, and an unchanged table has an empty delta.
#include "controlplane/sync/table_delta.h"

#include <random>

#include "gtest/gtest.h"

namespace ringside::sync {
namespace {

v1::Instance make(const std::string& cluster, const std::string& app, const std::string& address, uint32_t weight = 1,
                  bool unhealthy = false) {
  v1::Instance i;
  i.set_cluster(cluster);
  i.set_app_id(app);
  i.set_namespace_("default");
  i.set_address(address);
  i.set_weight(weight);
  i.set_unhealthy(unhealthy);
  return i;
}

Table random_table(std::mt19937& rng) {
  Table t;
  std::uniform_int_distribution<int> count(0, 30), pick(0, 9), weight(1, 3), coin(0, 4);
  const char* clusters[] = {"b", "c", "d"};
  const char* apps[] = {"echo", "orders", "cart"};
  for (int n = count(rng); n > 0; --n) {
    v1::Instance i = make(clusters[pick(rng) % 3], apps[pick(rng) % 3], "10.0.0." + std::to_string(pick(rng)) + ":50002",
                          weight(rng), coin(rng) == 0);
    t[instance_key(i)] = i;
  }
  return t;
}

bool tables_equal(const Table& a, const Table& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first || !same_instance(ia->second, ib->second)) return false;
  }
  return true;
}

TEST(TableDeltaTest, ApplyingTheDeltaToTheOldTableGivesTheNewOneForRandomTables) {
  std::mt19937 rng(20261204);
  for (int round = 0; round < 2000; ++round) {
    const Table before = random_table(rng);
    const Table after = random_table(rng);
    const Delta d = compute_delta(before, after);
    Table applied = before;
    apply_delta(&applied, d.removals, d.upserts);
    ASSERT_TRUE(tables_equal(applied, after)) << "round " << round;
    EXPECT_TRUE(compute_delta(after, after).empty());
  }
}

TEST(TableDeltaTest, AWeightOrHealthChangeIsAnUpsertAndAGoneInstanceARemoval) {
  Table before, after;
  v1::Instance a = make("b", "echo", "10.0.0.1:1"), b = make("b", "echo", "10.0.0.2:1");
  before[instance_key(a)] = a;
  before[instance_key(b)] = b;
  v1::Instance a2 = make("b", "echo", "10.0.0.1:1", 5);
  after[instance_key(a2)] = a2;
  Delta d = compute_delta(before, after);
  ASSERT_EQ(d.upserts.size(), 1u);
  EXPECT_EQ(d.upserts[0].weight(), 5u);
  ASSERT_EQ(d.removals.size(), 1u);
  EXPECT_EQ(d.removals[0].address(), "10.0.0.2:1");
  EXPECT_EQ(d.removals[0].cluster(), "b");
}

TEST(TableDeltaTest, TheSameAddressInTwoClustersIsTwoInstances) {
  // Private address ranges repeat across clusters: identity includes the cluster.
  EXPECT_NE(instance_key(make("b", "echo", "10.0.0.1:1")), instance_key(make("c", "echo", "10.0.0.1:1")));
  EXPECT_EQ(instance_key(make("b", "echo", "10.0.0.1:1")), instance_key(key_of(make("b", "echo", "10.0.0.1:1"))));
}

}  // namespace
}  // namespace ringside::sync
