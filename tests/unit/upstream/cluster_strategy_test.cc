// Cluster strategies on the shard side: the table splits each app id's instances into a local
// and an external subset (each with its own balancing tables, also across namespaces), and
// pick_in_clusters (the filter choose_peer applies) keeps each strategy inside the subsets it
// allows — falling over between them for local-first/external-first on ejection, dial back-off
// and exclusion (a retry), panicking only inside the allowed subset, and hashing inside the
// subset. The retry question (another_instance_usable) follows the strategy too.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/upstream/call_health.h"
#include "dataplane/upstream/lb/policy_picker.h"
#include "dataplane/upstream/peer_choice.h"

namespace ringside::invoke {
namespace {

using snapshot::ClusterStrategy;
using snapshot::Instance;
using snapshot::InstanceTable;

constexpr int64_t kSecond = 1'000'000'000;

Instance inst(std::string_view app, std::string_view ns, std::string_view address, std::string_view cluster) {
  absl::StatusOr<Instance> i = snapshot::make_instance(app, ns, address, cluster);
  EXPECT_TRUE(i.ok()) << i.status();
  return *i;
}

// b: two in east (ours), one untagged (ours too), two in west. Listed interleaved: the table
// must group them.
std::vector<Instance> east_west() {
  return {inst("b", "", "10.0.2.1:1", "west"), inst("b", "", "10.0.1.1:1", "east"), inst("b", "", "10.0.2.2:1", "west"),
          inst("b", "", "10.0.1.2:1", "east"), inst("b", "", "10.0.0.9:1", ""), inst("a", "", "10.0.3.1:1", "west")};
}

snapshot::ClusterSettings east(ClusterStrategy s = ClusterStrategy::kLocalFirst) {
  snapshot::ClusterSettings c;
  c.local_cluster = "east";
  c.strategies.defaults = s;
  return c;
}

bool is_local(const Instance* i) { return i != nullptr && (i->cluster.empty() || i->cluster == "east"); }

class FakeDial final : public lb::DialState {
 public:
  std::set<uint64_t> backing;  // address keys in back-off
  bool backing_off(const snapshot::SocketAddress& a) const override { return backing.count(a.key()) > 0; }
};

struct Fixture {
  std::unique_ptr<InstanceTable> table;
  lb::PolicyPicker picker{7};
  FakeDial dial;
  int64_t now = 100 * kSecond;
  snapshot::OutlierDetection outlier{.consecutive_failures = 1};

  explicit Fixture(std::vector<Instance> all = east_west(), snapshot::ClusterSettings clusters = east(),
                   snapshot::LoadBalancing lb = {})
      : table(InstanceTable::build(std::move(all), false, 1, {}, &lb, &clusters)) {}

  const Instance* pick(ClusterStrategy s, std::span<const uint64_t> exclude = {}, uint64_t key = 0,
                       std::string_view ns = "") {
    const InstanceTable::Pool pool = table->find_pool("b", ns);
    const lb::PickRequest req{.app_id = "b", .app_namespace = ns, .hash_key = key, .exclude = exclude,
                              .balancing = pool.balancing, .dial = &dial, .now_ns = now};
    return pick_in_clusters(&picker, req, pool, s);
  }
  void eject(std::span<const Instance> which) {
    for (const Instance& i : which) {
      picker.on_call_start(i.id);
      picker.on_call_end(i.id, lb::CallOutcome::kFailure, now, outlier);
    }
  }
  // Distinct instances chosen over n picks.
  std::set<std::string> spread(ClusterStrategy s, int n = 40, std::span<const uint64_t> exclude = {}) {
    std::set<std::string> out;
    for (int k = 0; k < n; ++k) {
      const Instance* i = pick(s, exclude);
      out.insert(i ? i->address_text : "none");
    }
    return out;
  }
};

TEST(ClusterSplitTest, LocalInstancesComeFirstWithTheirOwnBalancing) {
  Fixture f;
  const InstanceTable::Pool pool = f.table->find_pool("b", "");
  ASSERT_EQ(pool.instances.size(), 5u);
  ASSERT_EQ(pool.local.instances.size(), 3u);
  ASSERT_EQ(pool.external.instances.size(), 2u);
  EXPECT_EQ(pool.local.instances.data(), pool.instances.data());
  EXPECT_EQ(pool.external.instances.data(), pool.instances.data() + 3);
  for (const Instance& i : pool.local.instances) EXPECT_TRUE(is_local(&i)) << i.address_text;
  for (const Instance& i : pool.external.instances) EXPECT_EQ(i.cluster, "west") << i.address_text;
  ASSERT_NE(pool.local.balancing, nullptr);
  ASSERT_NE(pool.external.balancing, nullptr);
  EXPECT_NE(pool.local.balancing, pool.balancing);
  EXPECT_NE(pool.external.balancing, pool.local.balancing);
  // a has only an external instance: no local subset, the external one shares the whole table.
  const InstanceTable::Pool a = f.table->find_pool("a", "");
  EXPECT_TRUE(a.local.instances.empty());
  EXPECT_EQ(a.local.balancing, nullptr);
  EXPECT_EQ(a.external.balancing, a.balancing);
}

TEST(ClusterSplitTest, WithoutAnOwnClusterEveryInstanceIsLocalAndNothingExtraIsBuilt) {
  Fixture f(east_west(), snapshot::ClusterSettings{});
  const InstanceTable::Pool pool = f.table->find_pool("b", "");
  EXPECT_EQ(pool.local.instances.size(), 5u);
  EXPECT_TRUE(pool.external.instances.empty());
  EXPECT_EQ(pool.local.balancing, pool.balancing);
  // Every strategy code path is today's single pick over everything.
  EXPECT_EQ(f.spread(ClusterStrategy::kLocalFirst).size(), 5u);
}

TEST(ClusterSplitTest, AppWideRangeOverSeveralNamespacesIsRegroupedLocalFirst) {
  std::vector<Instance> all = {inst("b", "ns1", "10.0.1.1:1", "east"), inst("b", "ns1", "10.0.2.1:1", "west"),
                               inst("b", "ns2", "10.0.1.2:1", "east"), inst("b", "ns2", "10.0.2.2:1", "west"),
                               inst("c", "ns1", "10.0.9.1:1", "east")};
  for (bool aware : {true, false}) {
    snapshot::ClusterSettings clusters = east();
    snapshot::LoadBalancing lb;
    auto t = InstanceTable::build(all, aware, 1, {}, &lb, &clusters);
    const InstanceTable::Pool any = t->find_pool("b", "");
    ASSERT_EQ(any.instances.size(), 4u) << aware;
    ASSERT_EQ(any.local.instances.size(), 2u) << aware;
    ASSERT_EQ(any.external.instances.size(), 2u) << aware;
    for (const Instance& i : any.local.instances) EXPECT_EQ(i.cluster, "east");
    for (const Instance& i : any.external.instances) EXPECT_EQ(i.cluster, "west");
    EXPECT_EQ(t->find("b", "").size(), 4u);
    EXPECT_EQ(t->all().size(), 5u);
    // find_by_id still points into the table proper.
    EXPECT_EQ(t->find_by_id(all[3].id)->address_text, "10.0.2.2:1");
    if (aware) {
      const InstanceTable::Pool ns1 = t->find_pool("b", "ns1");
      ASSERT_EQ(ns1.local.instances.size(), 1u);
      ASSERT_EQ(ns1.external.instances.size(), 1u);
      EXPECT_EQ(ns1.local.instances[0].address_text, "10.0.1.1:1");
      EXPECT_EQ(ns1.external.instances[0].address_text, "10.0.2.1:1");
      // c: one namespace, all local: its namespace pool shares the app's tables.
      EXPECT_EQ(t->find_pool("c", "ns1").local.balancing, t->find_pool("c", "").local.balancing);
    }
  }
}

TEST(ClusterStrategyTest, LocalFirstStaysLocalUntilNoLocalIsUsableThenPanicsLocally) {
  Fixture f;
  EXPECT_EQ(f.spread(ClusterStrategy::kLocalFirst), (std::set<std::string>{"10.0.0.9:1", "10.0.1.1:1", "10.0.1.2:1"}));
  const InstanceTable::Pool pool = f.table->find_pool("b", "");
  f.eject(pool.local.instances.first(2));
  EXPECT_EQ(f.spread(ClusterStrategy::kLocalFirst), (std::set<std::string>{"10.0.1.2:1"}));
  f.dial.backing.insert(pool.local.instances[2].addr.key());  // the last local one backs off
  EXPECT_EQ(f.spread(ClusterStrategy::kLocalFirst), (std::set<std::string>{"10.0.2.1:1", "10.0.2.2:1"}));
  f.eject(pool.external.instances);  // nothing usable anywhere: panic among the local ones
  for (const std::string& a : f.spread(ClusterStrategy::kLocalFirst)) EXPECT_TRUE(a.starts_with("10.0.0.") || a.starts_with("10.0.1.")) << a;
}

TEST(ClusterStrategyTest, ExternalFirstIsTheReverse) {
  Fixture f;
  EXPECT_EQ(f.spread(ClusterStrategy::kExternalFirst), (std::set<std::string>{"10.0.2.1:1", "10.0.2.2:1"}));
  const InstanceTable::Pool pool = f.table->find_pool("b", "");
  f.eject(pool.external.instances);
  EXPECT_EQ(f.spread(ClusterStrategy::kExternalFirst).size(), 3u);
  for (const std::string& a : f.spread(ClusterStrategy::kExternalFirst)) EXPECT_FALSE(a.starts_with("10.0.2.")) << a;
  f.eject(pool.local.instances);  // panic among the external ones
  for (const std::string& a : f.spread(ClusterStrategy::kExternalFirst)) EXPECT_TRUE(a.starts_with("10.0.2.")) << a;
}

TEST(ClusterStrategyTest, OnlyStrategiesNeverLeaveTheirSubsetEvenInPanic) {
  Fixture f;
  const InstanceTable::Pool pool = f.table->find_pool("b", "");
  EXPECT_EQ(f.spread(ClusterStrategy::kLocalOnly).size(), 3u);
  for (const std::string& a : f.spread(ClusterStrategy::kExternalOnly)) EXPECT_TRUE(a.starts_with("10.0.2.")) << a;
  f.eject(pool.local.instances);
  for (const std::string& a : f.spread(ClusterStrategy::kLocalOnly)) EXPECT_FALSE(a.starts_with("10.0.2.")) << a;
  f.eject(pool.external.instances);
  for (const std::string& a : f.spread(ClusterStrategy::kExternalOnly)) EXPECT_TRUE(a.starts_with("10.0.2.")) << a;
  // An app with no instance in the allowed subset: no pick (choose_peer: kNoClusterInstance).
  const InstanceTable::Pool a = f.table->find_pool("a", "");
  const lb::PickRequest req{.app_id = "a", .app_namespace = "", .hash_key = 0, .exclude = {},
                            .balancing = a.balancing, .dial = &f.dial, .now_ns = f.now};
  EXPECT_EQ(pick_in_clusters(&f.picker, req, a, ClusterStrategy::kLocalOnly), nullptr);
  EXPECT_NE(pick_in_clusters(&f.picker, req, a, ClusterStrategy::kExternalOnly), nullptr);
  EXPECT_NE(pick_in_clusters(&f.picker, req, a, ClusterStrategy::kLocalFirst), nullptr);  // falls over
  EXPECT_EQ(pick_in_clusters(&f.picker, req, a, ClusterStrategy::kBroadcast), nullptr);
}

TEST(ClusterStrategyTest, RetriesMoveToAnotherLocalThenToExternal) {
  Fixture f;
  const InstanceTable::Pool pool = f.table->find_pool("b", "");
  std::vector<uint64_t> failed = {pool.local.instances[0].id};
  for (int k = 0; k < 20; ++k) {
    const Instance* i = f.pick(ClusterStrategy::kLocalFirst, failed);
    ASSERT_TRUE(is_local(i));
    EXPECT_NE(i->id, failed[0]);
  }
  failed = {pool.local.instances[0].id, pool.local.instances[1].id, pool.local.instances[2].id};
  for (int k = 0; k < 20; ++k) EXPECT_EQ(f.pick(ClusterStrategy::kLocalFirst, failed)->cluster, "west");
  // local-only with every local instance failed: back to a local one (today's only-instance retry).
  for (int k = 0; k < 20; ++k) EXPECT_TRUE(is_local(f.pick(ClusterStrategy::kLocalOnly, failed)));
}

TEST(ClusterStrategyTest, HashPoliciesPickConsistentlyInsideTheSubset) {
  for (snapshot::LbPolicy policy : {snapshot::LbPolicy::kMaglev, snapshot::LbPolicy::kRingHash}) {
    snapshot::LoadBalancing lb;
    lb.defaults = {policy, "x-user"};
    Fixture f(east_west(), east(), lb);
    const InstanceTable::Pool pool = f.table->find_pool("b", "");
    ASSERT_FALSE(pool.local.balancing->maglev.empty() && pool.local.balancing->ring.empty());
    std::set<std::string> local_hits, external_hits;
    for (uint64_t key = 1; key < 400; ++key) {
      const uint64_t h = snapshot::mix64(key);
      const Instance* l = f.pick(ClusterStrategy::kLocalFirst, {}, h);
      ASSERT_TRUE(is_local(l));
      EXPECT_EQ(f.pick(ClusterStrategy::kLocalFirst, {}, h), l);  // same key, same instance
      local_hits.insert(l->address_text);
      const Instance* e = f.pick(ClusterStrategy::kExternalOnly, {}, h);
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->cluster, "west");
      external_hits.insert(e->address_text);
    }
    EXPECT_EQ(local_hits.size(), 3u);  // the subset's table spreads keys over all of it
    EXPECT_EQ(external_hits.size(), 2u);
  }
}

TEST(ClusterStrategyTest, WeightedSchedulesAreBuiltPerSubset) {
  // Weights differ inside each subset: each subset's schedule indexes only its own instances.
  auto weighted = [](std::string_view address, std::string_view cluster, uint32_t w) {
    return *snapshot::make_instance("b", "", address, cluster, w);
  };
  std::vector<Instance> all = {weighted("10.0.2.1:1", "west", 1), weighted("10.0.1.1:1", "east", 1),
                               weighted("10.0.2.2:1", "west", 3), weighted("10.0.1.2:1", "east", 3),
                               weighted("10.0.2.3:1", "west", 1)};
  Fixture f(all);
  const InstanceTable::Pool pool = f.table->find_pool("b", "");
  ASSERT_FALSE(pool.local.balancing->schedule.empty());
  ASSERT_FALSE(pool.external.balancing->schedule.empty());
  for (uint16_t i : pool.local.balancing->schedule) EXPECT_LT(i, pool.local.instances.size());
  for (uint16_t i : pool.external.balancing->schedule) EXPECT_LT(i, pool.external.instances.size());
  std::map<std::string, int> local, external;
  for (int k = 0; k < 400; ++k) {
    ++local[f.pick(ClusterStrategy::kLocalOnly)->address_text];
    ++external[f.pick(ClusterStrategy::kExternalOnly)->address_text];
  }
  EXPECT_EQ(local.size(), 2u);
  EXPECT_EQ(local["10.0.1.2:1"], 300);  // weight 3 of 4, exact with round robin over the schedule
  EXPECT_EQ(external.size(), 3u);
  EXPECT_EQ(external["10.0.2.2:1"], 240);  // weight 3 of 5
}

TEST(ClusterStrategyTest, NamespaceScopedPoolsSplitToo) {
  std::vector<Instance> all = {inst("b", "ns1", "10.0.1.1:1", "east"), inst("b", "ns1", "10.0.2.1:1", "west"),
                               inst("b", "ns2", "10.0.1.2:1", "east"), inst("b", "ns2", "10.0.2.2:1", "west")};
  snapshot::ClusterSettings clusters = east();
  snapshot::LoadBalancing lb;
  Fixture f(all, clusters, lb);
  f.table = InstanceTable::build(all, true, 1, {}, &lb, &clusters);
  for (int k = 0; k < 10; ++k) {
    EXPECT_EQ(f.pick(ClusterStrategy::kLocalOnly, {}, 0, "ns2")->address_text, "10.0.1.2:1");
    EXPECT_EQ(f.pick(ClusterStrategy::kExternalOnly, {}, 0, "ns1")->address_text, "10.0.2.1:1");
  }
}

TEST(ClusterStrategyTest, RefusalTextNamesAppClusterAndStrategy) {
  PeerChoice c;
  c.local_cluster = "east";
  c.strategy = ClusterStrategy::kLocalOnly;
  char buf[256];
  EXPECT_EQ(cluster_refusal_text(c, "b", buf),
            "no usable instance of app id b in the local cluster \"east\" (cluster strategy local-only)");
  c.strategy = ClusterStrategy::kExternalOnly;
  EXPECT_EQ(cluster_refusal_text(c, "b", buf),
            "no usable instance of app id b outside the local cluster \"east\" (cluster strategy external-only)");
  c.strategy = ClusterStrategy::kBroadcast;
  EXPECT_EQ(cluster_refusal_text(c, "b", buf),
            "no usable instance of app id b in any cluster (cluster strategy broadcast)");
  c.strategy = ClusterStrategy::kExternalOnly;
  char tiny[10];
  EXPECT_EQ(cluster_refusal_text(c, "b", tiny), "no usable");
}

TEST(ClusterStrategyTest, ImmediateRetryOnlyCountsInstancesTheStrategyAllows) {
  snapshot::SnapshotRegistry registry{1};
  lb::PolicyPicker picker{1};
  ShardServices svc;
  svc.snapshots = &registry;
  svc.picker = &picker;
  snapshot::ClusterSettings clusters = east(ClusterStrategy::kLocalOnly);
  clusters.strategies.apps["c"] = ClusterStrategy::kLocalFirst;
  std::vector<Instance> all = {inst("b", "", "10.0.1.1:1", "east"), inst("b", "", "10.0.2.1:1", "west"),
                               inst("c", "", "10.0.1.1:2", "east"), inst("c", "", "10.0.2.1:2", "west")};
  snapshot::LoadBalancing lb;
  registry.publish(InstanceTable::build(all, false, 1, {}, &lb, &clusters));
  EXPECT_EQ(cluster_strategy(&svc, "b"), ClusterStrategy::kLocalOnly);
  EXPECT_EQ(cluster_strategy(&svc, "c"), ClusterStrategy::kLocalFirst);
  const uint64_t b_local[] = {all[0].id};
  const uint64_t c_local[] = {all[2].id};
  EXPECT_FALSE(upstream::another_instance_usable(&svc, "b", "", b_local));  // west is not allowed
  EXPECT_TRUE(upstream::another_instance_usable(&svc, "c", "", c_local));   // local-first may cross
}

// choose_peer's outcomes that need no connection: broadcast is never silently one pick, and an
// empty allowed subset is kNoClusterInstance carrying what the error message needs.
TEST(ClusterStrategyTest, ChoosePeerReportsBroadcastAndRefusals) {
  snapshot::SnapshotRegistry registry{1};
  lb::PolicyPicker picker{1};
  ShardServices svc;
  svc.snapshots = &registry;
  svc.picker = &picker;
  snapshot::ClusterSettings clusters = east(ClusterStrategy::kLocalOnly);
  clusters.strategies.apps["b"] = ClusterStrategy::kBroadcast;
  snapshot::LoadBalancing lb;
  registry.publish(InstanceTable::build(east_west(), false, 1, {}, &lb, &clusters));
  PeerChoice c = choose_peer(&svc, "b", "default");
  EXPECT_EQ(c.outcome, PeerChoice::Outcome::kBroadcast);
  EXPECT_EQ(c.conn, nullptr);
  c = choose_peer(&svc, "a", "default");  // a: only a west instance, local-only
  EXPECT_EQ(c.outcome, PeerChoice::Outcome::kNoClusterInstance);
  EXPECT_EQ(c.strategy, ClusterStrategy::kLocalOnly);
  EXPECT_EQ(c.local_cluster, "east");
}

// What a broadcast fans out over: usable instances of every cluster, local first, bounded by
// the caller's array; with none usable, all of them (panic), as a single pick would.
TEST(ClusterStrategyTest, BroadcastTargetsAreTheUsableInstancesLocalFirst) {
  snapshot::SnapshotRegistry registry{1};
  lb::PolicyPicker picker{1};
  ShardServices svc;
  svc.snapshots = &registry;
  svc.picker = &picker;
  snapshot::ClusterSettings clusters = east(ClusterStrategy::kBroadcast);
  snapshot::LoadBalancing lb;
  registry.publish(InstanceTable::build(east_west(), false, 1, {}, &lb, &clusters));
  std::array<BroadcastTarget, 8> out;
  ASSERT_EQ(broadcast_targets(&svc, "b", "default", out), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(out[i].local, i < 3) << i;
  EXPECT_EQ(out[3].instance->cluster, "west");
  EXPECT_EQ(broadcast_targets(&svc, "b", "default", std::span<BroadcastTarget>(out).first(2)), 2u);
  // Eject the east ones: only west remains a target.
  const snapshot::OutlierDetection once{.consecutive_failures = 1};
  const InstanceTable::Pool pool = registry.current()->find_pool("b", "");
  for (const Instance& i : pool.local.instances) {
    picker.on_call_start(i.id);
    picker.on_call_end(i.id, lb::CallOutcome::kFailure, shard::monotonic_ns(), once);
  }
  ASSERT_EQ(broadcast_targets(&svc, "b", "default", out), 2u);
  EXPECT_FALSE(out[0].local);
  EXPECT_FALSE(out[1].local);
  for (const Instance& i : pool.external.instances) {
    picker.on_call_start(i.id);
    picker.on_call_end(i.id, lb::CallOutcome::kFailure, shard::monotonic_ns(), once);
  }
  EXPECT_EQ(broadcast_targets(&svc, "b", "default", out), 5u);  // panic: every instance
  EXPECT_EQ(broadcast_targets(&svc, "nobody", "default", out), 0u);
}

}  // namespace
}  // namespace ringside::invoke
