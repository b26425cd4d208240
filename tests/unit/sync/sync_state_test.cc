// SyncState and ImportedClusters with an injected clock: merging several peer clusters, the
// export TTL, a newer stream replacing an older one, versions and epochs of the subscriber
// table, the FULL-then-DELTA sequence and the FULL a lagging subscriber gets instead.
#include "controlplane/sync/sync_state.h"

#include "gtest/gtest.h"

namespace ringside::sync {
namespace {

using std::chrono::milliseconds;

v1::ExportRequest export_of(const std::string& cluster, uint64_t version, std::vector<std::string> addresses,
                            const std::string& app = "echo") {
  v1::ExportRequest r;
  r.set_cluster(cluster);
  r.set_version(version);
  for (const std::string& a : addresses) {
    v1::Instance* i = r.add_instances();
    i->set_app_id(app);
    i->set_namespace_("default");
    i->set_address(a);
    i->set_cluster("forged");  // the importer sets the stream's cluster
  }
  return r;
}

v1::ExportRequest heartbeat(const std::string& cluster, uint64_t version) {
  v1::ExportRequest r;
  r.set_cluster(cluster);
  r.set_version(version);
  r.set_heartbeat_only(true);
  return r;
}

const TimePoint t0 = TimePoint() + std::chrono::hours(1);  // the injected clock's origin

std::optional<v1::TableUpdate> next_now(SyncState& s, Subscriber* sub) {
  return s.next_update(sub, std::chrono::steady_clock::now());  // never waits
}

TEST(ImportedClustersTest, MergesSeveralPeerClustersAndTagsEachWithItsStreamsCluster) {
  ImportedClusters imports(milliseconds(3000));
  const uint64_t b = imports.open_stream("b", t0);
  const uint64_t c = imports.open_stream("c", t0);
  bool changed = false;
  ASSERT_TRUE(imports.apply("b", b, export_of("b", 1, {"10.0.0.1:1", "10.0.0.2:1"}), t0, &changed));
  EXPECT_TRUE(changed);
  ASSERT_TRUE(imports.apply("c", c, export_of("c", 1, {"10.0.0.1:1"}), t0, &changed));
  Table all = imports.merged();
  ASSERT_EQ(all.size(), 3u);
  int in_b = 0, in_c = 0;
  for (const auto& [k, i] : all) (i.cluster() == "b" ? in_b : in_c) += 1;
  EXPECT_EQ(in_b, 2);
  EXPECT_EQ(in_c, 1);
  // The same table again is no change.
  ASSERT_TRUE(imports.apply("b", b, export_of("b", 2, {"10.0.0.2:1", "10.0.0.1:1"}), t0, &changed));
  EXPECT_FALSE(changed);
}

TEST(ImportedClustersTest, AClosedStreamsInstancesStayForTheTtlThenExpire) {
  ImportedClusters imports(milliseconds(3000));
  const uint64_t b = imports.open_stream("b", t0);
  bool changed = false;
  ASSERT_TRUE(imports.apply("b", b, export_of("b", 1, {"10.0.0.1:1"}), t0, &changed));
  imports.close_stream("b", b, t0 + milliseconds(1000));
  EXPECT_FALSE(imports.expire(t0 + milliseconds(3999)));
  EXPECT_EQ(imports.merged().size(), 1u);
  EXPECT_TRUE(imports.expire(t0 + milliseconds(4001)));
  EXPECT_TRUE(imports.merged().empty());
  EXPECT_TRUE(imports.clusters().empty());
}

TEST(ImportedClustersTest, HeartbeatsKeepAnOpenStreamAliveAndSilenceExpiresIt) {
  ImportedClusters imports(milliseconds(3000));
  const uint64_t b = imports.open_stream("b", t0);
  bool changed = false;
  ASSERT_TRUE(imports.apply("b", b, export_of("b", 1, {"10.0.0.1:1"}), t0, &changed));
  for (int s = 1; s <= 10; ++s) {
    ASSERT_TRUE(imports.apply("b", b, heartbeat("b", 1), t0 + milliseconds(2000 * s), &changed));
    EXPECT_FALSE(changed);
    EXPECT_FALSE(imports.expire(t0 + milliseconds(2000 * s + 2500)));
  }
  // A hung peer (stream open, no heartbeats) expires like a gone one.
  EXPECT_TRUE(imports.expire(t0 + milliseconds(20000 + 3001)));
  EXPECT_TRUE(imports.merged().empty());
  // ...and refills when it speaks again.
  ASSERT_TRUE(imports.apply("b", b, export_of("b", 2, {"10.0.0.1:1"}), t0 + milliseconds(30000), &changed));
  EXPECT_TRUE(changed);
}

TEST(ImportedClustersTest, ANewerStreamReplacesTheOlderOneWhoseEndNoLongerCounts) {
  ImportedClusters imports(milliseconds(3000));
  const uint64_t old_stream = imports.open_stream("b", t0);
  bool changed = false;
  ASSERT_TRUE(imports.apply("b", old_stream, export_of("b", 7, {"10.0.0.1:1"}), t0, &changed));
  const uint64_t new_stream = imports.open_stream("b", t0 + milliseconds(100));
  EXPECT_FALSE(imports.apply("b", old_stream, export_of("b", 8, {}), t0 + milliseconds(200), &changed));
  EXPECT_EQ(imports.merged().size(), 1u);
  ASSERT_TRUE(imports.apply("b", new_stream, export_of("b", 1, {"10.0.0.2:1"}), t0 + milliseconds(200), &changed));
  imports.close_stream("b", old_stream, t0 + milliseconds(300));  // ignored: not the owner
  ASSERT_EQ(imports.clusters().size(), 1u);
  ASSERT_EQ(imports.merged().size(), 1u);
  EXPECT_EQ(imports.merged().begin()->second.address(), "10.0.0.2:1");
  EXPECT_TRUE(imports.clusters()[0].connected);
}

TEST(SyncStateTest, ASubscriberGetsAFullThenDeltasWhoseBaseVersionsChain) {
  SyncState state("a", "epoch-1", milliseconds(3000), {});
  const uint64_t b = state.import_open("b", t0);
  ASSERT_TRUE(state.import_apply("b", b, export_of("b", 1, {"10.0.0.1:1"}), t0));
  std::shared_ptr<Subscriber> sub = state.subscribe("caller");
  ASSERT_TRUE(sub);
  std::optional<v1::TableUpdate> full = next_now(state, sub.get());
  ASSERT_TRUE(full);
  EXPECT_EQ(full->kind(), v1::TableUpdate::FULL);
  EXPECT_EQ(full->epoch(), "epoch-1");
  EXPECT_EQ(full->upserts_size(), 1);
  EXPECT_EQ(full->clusters(), 1u);
  EXPECT_FALSE(next_now(state, sub.get()));  // nothing changed since

  Table held;
  apply_delta(&held, full->removals(), full->upserts());
  uint64_t held_version = full->version();
  const uint64_t c = state.import_open("c", t0);
  ASSERT_TRUE(state.import_apply("c", c, export_of("c", 1, {"10.0.0.9:1"}), t0));
  ASSERT_TRUE(state.import_apply("b", b, export_of("b", 2, {"10.0.0.2:1"}), t0));
  state.import_close("c", c, t0);
  state.expire(t0 + milliseconds(3001));  // b heard at t0 too: both expire
  for (int n = 0; n < 3; ++n) {
    std::optional<v1::TableUpdate> d = next_now(state, sub.get());
    ASSERT_TRUE(d) << n;
    EXPECT_EQ(d->kind(), v1::TableUpdate::DELTA);
    EXPECT_EQ(d->base_version(), held_version);
    EXPECT_EQ(d->version(), held_version + 1);
    apply_delta(&held, d->removals(), d->upserts());
    held_version = d->version();
  }
  EXPECT_EQ(held_version, state.version());
  EXPECT_TRUE(held.empty());
  EXPECT_TRUE(state.published().empty());
}

TEST(SyncStateTest, ASubscriberThatFallsBehindGetsOneFreshFullInsteadOfTheBacklog) {
  SyncState state("a", "e", milliseconds(3000), {.max_subscribers = 4, .queue_updates = 3});
  std::shared_ptr<Subscriber> sub = state.subscribe("slow");
  ASSERT_TRUE(next_now(state, sub.get()));  // the first FULL
  const uint64_t b = state.import_open("b", t0);
  for (int v = 1; v <= 10; ++v)
    ASSERT_TRUE(state.import_apply("b", b, export_of("b", v, {"10.0.0." + std::to_string(v) + ":1"}), t0));
  std::optional<v1::TableUpdate> u = next_now(state, sub.get());
  ASSERT_TRUE(u);
  EXPECT_EQ(u->kind(), v1::TableUpdate::FULL);
  EXPECT_EQ(u->version(), state.version());
  ASSERT_EQ(u->upserts_size(), 1);
  EXPECT_EQ(u->upserts(0).address(), "10.0.0.10:1");
  EXPECT_FALSE(next_now(state, sub.get()));
  EXPECT_NE(state.metrics_text().find("ringside_sync_subscriber_resyncs_total 1\n"), std::string::npos);
}

TEST(SyncStateTest, SubscribersAreBoundedAndALeavingOneFreesItsPlace) {
  SyncState state("a", "e", milliseconds(3000), {.max_subscribers = 2, .queue_updates = 8});
  auto s1 = state.subscribe("1"), s2 = state.subscribe("2");
  ASSERT_TRUE(s1 && s2);
  EXPECT_FALSE(state.subscribe("3"));
  state.unsubscribe(s1);
  EXPECT_TRUE(state.subscribe("4"));
}

TEST(SyncStateTest, EveryChangeGrowsTheVersionByOneAndNoChangeKeepsIt) {
  SyncState state("a", "e", milliseconds(3000), {});
  const uint64_t v0 = state.version();
  const uint64_t b = state.import_open("b", t0);
  ASSERT_TRUE(state.import_apply("b", b, export_of("b", 1, {"10.0.0.1:1"}), t0));
  EXPECT_EQ(state.version(), v0 + 1);
  ASSERT_TRUE(state.import_apply("b", b, export_of("b", 2, {"10.0.0.1:1"}), t0));
  ASSERT_TRUE(state.import_apply("b", b, heartbeat("b", 2), t0));
  EXPECT_EQ(state.version(), v0 + 1);
  // Epochs are the process's: two states never share one by accident in main (random), and
  // the subscriber sees the epoch it was given.
  SyncState other("a", "f", milliseconds(3000), {});
  auto sub = other.subscribe("x");
  EXPECT_EQ(next_now(other, sub.get())->epoch(), "f");
}

TEST(SyncStateTest, AfterStartSubscribersWaitForEveryPeersFirstExportOrTheWarmupDeadline) {
  SyncState state("a", "e", milliseconds(3000), {});
  state.begin_warmup({"b", "c"}, t0 + milliseconds(3000));
  auto sub = state.subscribe("x");
  EXPECT_FALSE(next_now(state, sub.get()));  // no FULL of a table peers have not filled yet
  const uint64_t b = state.import_open("b", t0);
  ASSERT_TRUE(state.import_apply("b", b, export_of("b", 1, {"10.0.0.1:1"}), t0));
  EXPECT_TRUE(state.warming());
  EXPECT_FALSE(next_now(state, sub.get()));
  const uint64_t c = state.import_open("c", t0);
  ASSERT_TRUE(state.import_apply("c", c, export_of("c", 1, {"10.0.0.2:1"}), t0));
  EXPECT_FALSE(state.warming());
  std::optional<v1::TableUpdate> full = next_now(state, sub.get());
  ASSERT_TRUE(full);
  EXPECT_EQ(full->kind(), v1::TableUpdate::FULL);
  EXPECT_EQ(full->upserts_size(), 2);

  // A peer that never comes does not hold the table back past the deadline.
  SyncState other("a", "e", milliseconds(3000), {});
  other.begin_warmup({"b", "down"}, t0 + milliseconds(3000));
  auto sub2 = other.subscribe("y");
  const uint64_t b2 = other.import_open("b", t0);
  ASSERT_TRUE(other.import_apply("b", b2, export_of("b", 1, {"10.0.0.1:1"}), t0));
  other.expire(t0 + milliseconds(2999));
  EXPECT_FALSE(next_now(other, sub2.get()));
  other.expire(t0 + milliseconds(3000));
  full = next_now(other, sub2.get());
  ASSERT_TRUE(full);
  EXPECT_EQ(full->upserts_size(), 1);
}

TEST(SyncStateTest, TheLocalTableIsTaggedWithTheOwnClusterAndVersionedOnChangeOnly) {
  SyncState state("east", "e", milliseconds(3000), {});
  EXPECT_EQ(state.local().version, 0u);
  EXPECT_FALSE(state.healthy());
  v1::Instance i;
  i.set_app_id("echo");
  i.set_address("127.0.0.1:1");
  state.set_local({i});
  EXPECT_EQ(state.local().version, 1u);
  ASSERT_EQ(state.local().instances.size(), 1u);
  EXPECT_EQ(state.local().instances[0].cluster(), "east");
  state.set_local({i});
  EXPECT_EQ(state.local().version, 1u);
  state.set_local({});
  EXPECT_EQ(state.local().version, 2u);
  EXPECT_TRUE(state.healthy());
  EXPECT_NE(state.metrics_text().find("ringside_sync_instances{cluster=\"east\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace ringside::sync
