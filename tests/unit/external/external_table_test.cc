#include "controlplane/resolvers/external/external_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <tuple>

namespace ringside::resolvers::external {
namespace {

using ringside::sync::v1::TableUpdate;

ringside::sync::v1::Instance proto_instance(const std::string& app, const std::string& address, const std::string& cluster,
                                            uint32_t weight = 1, bool unhealthy = false) {
  ringside::sync::v1::Instance i;
  i.set_app_id(app);
  i.set_namespace_("default");
  i.set_address(address);
  i.set_cluster(cluster);
  i.set_weight(weight);
  i.set_unhealthy(unhealthy);
  return i;
}

TableUpdate full(const std::string& epoch, uint64_t version, std::vector<ringside::sync::v1::Instance> instances) {
  TableUpdate u;
  u.set_kind(TableUpdate::FULL);
  u.set_epoch(epoch);
  u.set_version(version);
  for (auto& i : instances) *u.add_upserts() = std::move(i);
  return u;
}

TableUpdate delta(const std::string& epoch, uint64_t base, uint64_t version, std::vector<ringside::sync::v1::Instance> upserts,
                  std::vector<ringside::sync::v1::Instance> removed = {}) {
  TableUpdate u;
  u.set_kind(TableUpdate::DELTA);
  u.set_epoch(epoch);
  u.set_base_version(base);
  u.set_version(version);
  for (auto& i : upserts) *u.add_upserts() = std::move(i);
  for (const auto& i : removed) {
    ringside::sync::v1::InstanceKey* k = u.add_removals();
    k->set_app_id(i.app_id());
    k->set_namespace_(i.namespace_());
    k->set_address(i.address());
    k->set_cluster(i.cluster());
  }
  return u;
}

// "app cluster address weight healthy" per instance, in the table's order.
std::vector<std::string> describe(const ExternalTable& t) {
  std::vector<std::string> out;
  for (const snapshot::Instance& i : t.instances()) {
    out.push_back(i.app_id + " " + i.cluster + " " + i.address_text + " w" + std::to_string(i.weight) +
                  (i.healthy ? "" : " unhealthy"));
  }
  return out;
}

TEST(ExternalTableTest, FullThenDeltasBuildTheTable) {
  ExternalTable t;
  bool changed = false;
  ASSERT_TRUE(t.apply(full("e1", 1, {proto_instance("b", "198.51.100.1:50002", "west")}), &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(describe(t), (std::vector<std::string>{"b west 198.51.100.1:50002 w1"}));
  ASSERT_TRUE(t.apply(delta("e1", 1, 2, {proto_instance("b", "198.51.100.2:50002", "west", 3),
                                         proto_instance("c", "203.0.113.1:50002", "north", 0, true)}),
                      &changed)
                  .ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(describe(t), (std::vector<std::string>{"b west 198.51.100.1:50002 w1", "b west 198.51.100.2:50002 w3",
                                                   "c north 203.0.113.1:50002 w1 unhealthy"}));
  ASSERT_TRUE(t.apply(delta("e1", 2, 3, {}, {proto_instance("b", "198.51.100.1:50002", "west")}), &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.version(), 3u);
  EXPECT_EQ(t.epoch(), "e1");
  // A delta that changes nothing (heartbeat-like) advances the version without a change.
  ASSERT_TRUE(t.apply(delta("e1", 3, 4, {proto_instance("c", "203.0.113.1:50002", "north", 1, true)}), &changed).ok());
  EXPECT_FALSE(changed);
  EXPECT_EQ(t.version(), 4u);
}

TEST(ExternalTableTest, DeltasThatDoNotFitAreRejectedAndLeaveTheTableAlone) {
  ExternalTable t;
  bool changed = false;
  // Nothing held yet: a delta cannot apply.
  EXPECT_FALSE(t.apply(delta("e1", 0, 1, {proto_instance("b", "198.51.100.1:50002", "west")}), &changed).ok());
  EXPECT_EQ(t.size(), 0u);
  ASSERT_TRUE(t.apply(full("e1", 5, {proto_instance("b", "198.51.100.1:50002", "west")}), &changed).ok());
  const std::vector<std::string> before = describe(t);
  absl::Status wrong_base = t.apply(delta("e1", 4, 6, {proto_instance("x", "198.51.100.9:1", "west")}), &changed);
  EXPECT_FALSE(wrong_base.ok());
  EXPECT_NE(wrong_base.message().find("version 4"), std::string_view::npos) << wrong_base;
  absl::Status wrong_epoch = t.apply(delta("e2", 5, 6, {proto_instance("x", "198.51.100.9:1", "west")}), &changed);
  EXPECT_FALSE(wrong_epoch.ok());
  EXPECT_NE(wrong_epoch.message().find("e2"), std::string_view::npos) << wrong_epoch;
  EXPECT_FALSE(changed);
  EXPECT_EQ(describe(t), before);
  EXPECT_EQ(t.version(), 5u);
  // After the stream ends the table stays, but the next stream must start with a full table.
  t.stream_ended();
  EXPECT_EQ(describe(t), before);
  EXPECT_FALSE(t.apply(delta("e1", 5, 6, {proto_instance("x", "198.51.100.9:1", "west")}), &changed).ok());
  // The same full table again (a resubscribe) changes nothing; a new epoch replaces everything.
  ASSERT_TRUE(t.apply(full("e1", 5, {proto_instance("b", "198.51.100.1:50002", "west")}), &changed).ok());
  EXPECT_FALSE(changed);
  ASSERT_TRUE(t.apply(full("e2", 1, {proto_instance("d", "203.0.113.4:50002", "north")}), &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(describe(t), (std::vector<std::string>{"d north 203.0.113.4:50002 w1"}));
  EXPECT_EQ(t.epoch(), "e2");
}

TEST(ExternalTableTest, AddressesThatAreNotHostPortAreLeftOutAndCounted) {
  ExternalTable t;
  bool changed = false;
  ASSERT_TRUE(t.apply(full("e1", 1, {proto_instance("b", "no-port", "west"), proto_instance("b", "b.west.example:50002", "west")}),
                      &changed)
                  .ok());
  size_t skipped = 0;
  std::vector<snapshot::Instance> v = t.instances(&skipped);
  EXPECT_EQ(skipped, 1u);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].host_name, "b.west.example");  // the control plane's DNS client binds it
}

TEST(ExternalTableTest, ANewEpochCarriesOverTheClustersItDoesNotListUntilTheyReappearOrExpire) {
  ExternalTable t(std::chrono::seconds(10));
  const auto t0 = ExternalTable::Clock::now();
  bool changed = false;
  ASSERT_TRUE(t.apply(full("e1", 9, {proto_instance("b", "198.51.100.1:50002", "west"),
                                     proto_instance("c", "203.0.113.1:50002", "north")}),
                      &changed, t0)
                  .ok());
  // The restarted synchronizer knows north only so far.
  ASSERT_TRUE(t.apply(full("e2", 1, {proto_instance("c", "203.0.113.2:50002", "north")}), &changed, t0).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(describe(t), (std::vector<std::string>{"b west 198.51.100.1:50002 w1", "c north 203.0.113.2:50002 w1"}));
  EXPECT_EQ(t.carried(), 1u);
  EXPECT_EQ(t.carried_until(), t0 + std::chrono::seconds(10));
  EXPECT_FALSE(t.expire_carried(t0 + std::chrono::seconds(9)));
  // A same-epoch full (a resubscribe) does not extend or renew the carry-over.
  ASSERT_TRUE(t.apply(full("e2", 1, {proto_instance("c", "203.0.113.2:50002", "north")}), &changed, t0 + std::chrono::seconds(5)).ok());
  EXPECT_FALSE(changed);
  EXPECT_EQ(t.carried_until(), t0 + std::chrono::seconds(10));
  EXPECT_TRUE(t.expire_carried(t0 + std::chrono::seconds(10)));
  EXPECT_EQ(describe(t), (std::vector<std::string>{"c north 203.0.113.2:50002 w1"}));
  EXPECT_FALSE(t.carried_until().has_value());

  // Carried again after another restart, then west is listed by a delta: the synchronizer's
  // word replaces the carried instances of that cluster at once.
  ASSERT_TRUE(t.apply(delta("e2", 1, 2, {proto_instance("b", "198.51.100.1:50002", "west")}), &changed, t0).ok());
  ASSERT_TRUE(t.apply(full("e3", 1, {}), &changed, t0).ok());
  EXPECT_FALSE(changed);  // everything carried: what the sidecar sees did not change
  EXPECT_EQ(t.carried(), 2u);
  ASSERT_TRUE(t.apply(delta("e3", 1, 2, {proto_instance("b", "198.51.100.3:50002", "west")}), &changed, t0).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(describe(t), (std::vector<std::string>{"b west 198.51.100.3:50002 w1", "c north 203.0.113.2:50002 w1"}));
  EXPECT_EQ(t.carried(), 1u);  // north still carried
}

TEST(ExternalTableTest, WithoutCarryOverANewEpochReplacesEverything) {
  ExternalTable t;
  bool changed = false;
  ASSERT_TRUE(t.apply(full("e1", 9, {proto_instance("b", "198.51.100.1:50002", "west")}), &changed).ok());
  ASSERT_TRUE(t.apply(full("e2", 1, {}), &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(t.size(), 0u);
}

// Random FULL and DELTA sequences against a table recomputed from scratch after every update.
TEST(ExternalTableTest, RandomUpdateSequencesMatchRecomputing) {
  std::mt19937 rng(20261204);
  using Key = std::tuple<std::string, std::string, std::string>;  // app, cluster, address
  struct Value {
    uint32_t weight;  // as the table reads it (0 -> 1)
    bool unhealthy;   // the wire flag
  };
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto random_instance = [&] {
    return proto_instance("app" + std::to_string(pick(4)), "198.51.100." + std::to_string(1 + pick(6)) + ":50002",
                          pick(2) ? "west" : "north", static_cast<uint32_t>(pick(4)), pick(5) == 0);
  };
  for (int run = 0; run < 50; ++run) {
    ExternalTable t;
    std::map<Key, Value> model;
    std::string epoch = "e0";
    uint64_t version = 0;
    bool synced = false;
    for (int step = 0; step < 200; ++step) {
      bool changed = false;
      const std::map<Key, Value> before = model;
      const int what = pick(10);
      if (what == 0 || !synced) {  // a full table, sometimes of a new epoch
        if (pick(3) == 0) epoch = "e" + std::to_string(step);
        version = static_cast<uint64_t>(pick(1000));
        std::vector<ringside::sync::v1::Instance> all;
        model.clear();
        for (int i = pick(12); i > 0; --i) {
          all.push_back(random_instance());
          const auto& p = all.back();
          model[Key{p.app_id(), p.cluster(), p.address()}] = Value{p.weight() ? p.weight() : 1, p.unhealthy()};
        }
        ASSERT_TRUE(t.apply(full(epoch, version, all), &changed).ok());
        synced = true;
      } else if (what == 1) {  // out of step: rejected, nothing changes
        ASSERT_FALSE(t.apply(delta(epoch, version + 1 + static_cast<uint64_t>(pick(3)), version + 9, {random_instance()}), &changed).ok());
      } else if (what == 2) {  // stream lost and resubscribed: the table is kept
        t.stream_ended();
        synced = false;
      } else {
        std::vector<ringside::sync::v1::Instance> ups, gone;
        for (int i = pick(4); i > 0; --i) gone.push_back(random_instance());
        for (int i = pick(4); i > 0; --i) ups.push_back(random_instance());
        for (const auto& g : gone) model.erase(Key{g.app_id(), g.cluster(), g.address()});
        for (const auto& u : ups) model[Key{u.app_id(), u.cluster(), u.address()}] = Value{u.weight() ? u.weight() : 1, u.unhealthy()};
        ASSERT_TRUE(t.apply(delta(epoch, version, version + 1, ups, gone), &changed).ok());
        ++version;
      }
      std::vector<std::string> expected;
      for (const auto& [k, v] : model) {
        expected.push_back(std::get<0>(k) + " " + std::get<1>(k) + " " + std::get<2>(k) + " w" + std::to_string(v.weight) +
                           (v.unhealthy ? " unhealthy" : ""));
      }
      std::vector<std::string> got = describe(t);
      std::sort(expected.begin(), expected.end());
      std::sort(got.begin(), got.end());
      ASSERT_EQ(got, expected) << "run " << run << " step " << step;
      bool model_changed = before.size() != model.size();
      if (!model_changed) {
        for (const auto& [k, v] : model) {
          auto it = before.find(k);
          if (it == before.end() || it->second.weight != v.weight || it->second.unhealthy != v.unhealthy) model_changed = true;
        }
      }
      ASSERT_EQ(changed, model_changed) << "run " << run << " step " << step;
      ASSERT_EQ(t.version(), version);
    }
  }
}

}  // namespace
}  // namespace ringside::resolvers::external
