#include "controlplane/resolvers/external/sync_subscriber.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "controlplane/control_plane.h"
#include "controlplane/resolvers/static_resolver.h"
#include "tests/unit/controlplane/temp_dir.h"
#include "tests/unit/external/fake_synchronizer.h"

namespace ringside::resolvers::external {
namespace {

using namespace std::chrono_literals;
using ringside::sync::v1::TableUpdate;

ringside::sync::v1::Instance proto_instance(const std::string& app, const std::string& address, const std::string& cluster) {
  ringside::sync::v1::Instance i;
  i.set_app_id(app);
  i.set_namespace_("default");
  i.set_address(address);
  i.set_cluster(cluster);
  return i;
}

TableUpdate full(const std::string& epoch, uint64_t version, std::vector<ringside::sync::v1::Instance> instances) {
  TableUpdate u;
  u.set_kind(TableUpdate::FULL);
  u.set_epoch(epoch);
  u.set_version(version);
  u.set_clusters(1);
  for (auto& i : instances) *u.add_upserts() = std::move(i);
  return u;
}

TableUpdate delta(const std::string& epoch, uint64_t base, std::vector<ringside::sync::v1::Instance> upserts,
                  std::vector<ringside::sync::v1::Instance> removed = {}) {
  TableUpdate u;
  u.set_kind(TableUpdate::DELTA);
  u.set_epoch(epoch);
  u.set_base_version(base);
  u.set_version(base + 1);
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

// What the subscriber delivered and logged.
class Recorder {
 public:
  SyncSubscriber::Deliver deliver() {
    return [this](std::vector<snapshot::Instance> v) {
      std::vector<std::string> d;
      for (const snapshot::Instance& i : v) d.push_back(i.app_id + " " + i.cluster + " " + i.address_text);
      std::lock_guard<std::mutex> lock(mu_);
      deliveries_.push_back(std::move(d));
    };
  }
  SyncSubscriber::Log log() {
    return [this](const std::string& line) {
      std::fprintf(stderr, "[subscriber] %s\n", line.c_str());
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(line);
    };
  }
  size_t deliveries() {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_.size();
  }
  std::vector<std::string> last() {
    std::lock_guard<std::mutex> lock(mu_);
    return deliveries_.empty() ? std::vector<std::string>{"<nothing delivered>"} : deliveries_.back();
  }
  // Log lines containing `text`.
  int lines_with(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(std::count_if(lines_.begin(), lines_.end(),
                                          [&](const std::string& l) { return l.find(text) != std::string::npos; }));
  }
  // Waits up to 10 s for `pred`.
  template <typename Pred>
  static bool eventually(Pred pred) {
    for (int i = 0; i < 1000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

 private:
  std::mutex mu_;                                      // guards the two lists
  std::vector<std::vector<std::string>> deliveries_;   // each delivered list
  std::vector<std::string> lines_;                     // each log line
};

SubscriberOptions options_for(std::vector<std::string> synchronizers, std::string token = "") {
  SubscriberOptions o;
  o.synchronizers = std::move(synchronizers);
  o.token = std::move(token);
  o.cluster = "east";
  o.app_id = "a";
  o.max_backoff = 500ms;  // keeps the tests short; the sidecar uses 5 s
  o.carry_over = 400ms;   // likewise (10 s in the sidecar)
  return o;
}

// A port nothing listens on (bound, then closed).
int dead_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST(SyncSubscriberTest, FullThenDeltasAreDeliveredAsCompleteLists) {
  testing::FakeSynchronizer sync("s3cret");
  ASSERT_TRUE(sync.start());
  Recorder rec;
  SyncSubscriber sub(options_for({sync.address()}, "s3cret"), rec.deliver(), rec.log());
  ASSERT_TRUE(sub.start().ok());
  ASSERT_TRUE(sync.wait_streams(1));
  ASSERT_EQ(sync.authorizations()[0], "Bearer s3cret");
  EXPECT_EQ(sync.requests()[0].cluster(), "east");
  EXPECT_EQ(sync.requests()[0].app_id(), "a");
  EXPECT_EQ(sync.requests()[0].epoch(), "");  // nothing held yet

  sync.send(full("e1", 7, {proto_instance("b", "198.51.100.1:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 1; }));
  EXPECT_EQ(rec.last(), (std::vector<std::string>{"b west 198.51.100.1:50002"}));
  EXPECT_TRUE(sub.connected());
  sync.send(delta("e1", 7, {proto_instance("c", "203.0.113.1:50002", "north")}, {proto_instance("b", "198.51.100.1:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 2; }));
  EXPECT_EQ(rec.last(), (std::vector<std::string>{"c north 203.0.113.1:50002"}));
  sync.send(delta("e1", 8, {proto_instance("c", "203.0.113.1:50002", "north")}));  // no change: no delivery
  ASSERT_TRUE(Recorder::eventually([&] { return sub.updates_received() == 3; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rec.deliveries(), 2u);
  EXPECT_EQ(sub.external_instances(), 1u);
  EXPECT_EQ(rec.lines_with("connected to synchronizer " + sync.address()), 1);
  sub.stop();
  EXPECT_FALSE(sub.connected());
}

TEST(SyncSubscriberTest, ADeltaOnTheWrongBaseMakesItResubscribeAndKeepTheTable) {
  testing::FakeSynchronizer sync;
  ASSERT_TRUE(sync.start());
  Recorder rec;
  SyncSubscriber sub(options_for({sync.address()}), rec.deliver(), rec.log());
  ASSERT_TRUE(sub.start().ok());
  ASSERT_TRUE(sync.wait_streams(1));
  EXPECT_EQ(sync.authorizations()[0], "");  // no token configured: no metadata
  sync.send(full("e1", 1, {proto_instance("b", "198.51.100.1:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 1; }));
  sync.send(delta("e1", 5, {proto_instance("x", "198.51.100.9:50002", "west")}));  // we hold 1
  ASSERT_TRUE(sync.wait_streams(2));
  // It asks again naming what it holds; the wrong delta was never applied.
  EXPECT_EQ(sync.requests()[1].epoch(), "e1");
  EXPECT_EQ(sync.requests()[1].known_version(), 1u);
  EXPECT_EQ(rec.deliveries(), 1u);
  EXPECT_EQ(rec.lines_with("resubscribing: delta on version 5 while holding version 1"), 1);
  // The same table again is no change; a delta on it then applies.
  sync.send(full("e1", 1, {proto_instance("b", "198.51.100.1:50002", "west")}));
  sync.send(delta("e1", 1, {proto_instance("x", "198.51.100.9:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 2; }));
  EXPECT_EQ(rec.last(), (std::vector<std::string>{"b west 198.51.100.1:50002", "x west 198.51.100.9:50002"}));
}

TEST(SyncSubscriberTest, ANewEpochFullReplacesEverythingAndAnOldEpochDeltaResubscribes) {
  testing::FakeSynchronizer sync;
  ASSERT_TRUE(sync.start());
  Recorder rec;
  SyncSubscriber sub(options_for({sync.address()}), rec.deliver(), rec.log());
  ASSERT_TRUE(sub.start().ok());
  ASSERT_TRUE(sync.wait_streams(1));
  sync.send(full("e1", 3, {proto_instance("b", "198.51.100.1:50002", "west"), proto_instance("c", "198.51.100.2:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 1; }));
  sync.end_stream(grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting"));
  ASSERT_TRUE(sync.wait_streams(2));
  EXPECT_EQ(rec.lines_with("lost synchronizer"), 1);
  EXPECT_EQ(rec.deliveries(), 1u);  // kept, not emptied
  // The restarted synchronizer has not heard from west yet: west's instances are carried over
  // for a while, then dropped; north's come from the new table at once.
  sync.send(full("e2", 1, {proto_instance("d", "203.0.113.4:50002", "north")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 2; }));
  EXPECT_EQ(rec.last(), (std::vector<std::string>{"b west 198.51.100.1:50002", "c west 198.51.100.2:50002",
                                                  "d north 203.0.113.4:50002"}));
  EXPECT_EQ(rec.lines_with("carried over"), 1);
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 3; }));
  EXPECT_EQ(rec.last(), (std::vector<std::string>{"d north 203.0.113.4:50002"}));
  EXPECT_EQ(rec.lines_with("dropped 2 instances"), 1);
  sync.send(delta("e1", 1, {proto_instance("y", "198.51.100.5:50002", "west")}));  // a stale epoch
  ASSERT_TRUE(sync.wait_streams(3));
  EXPECT_EQ(sync.requests()[2].epoch(), "e2");
  EXPECT_EQ(rec.deliveries(), 3u);
}

TEST(SyncSubscriberTest, ALostSynchronizerLeavesTheTableAndItIsFoundAgainWithOneLogLinePerStateChange) {
  testing::FakeSynchronizer sync;
  ASSERT_TRUE(sync.start());
  const int port = sync.port();
  Recorder rec;
  SyncSubscriber sub(options_for({sync.address()}), rec.deliver(), rec.log());
  ASSERT_TRUE(sub.start().ok());
  ASSERT_TRUE(sync.wait_streams(1));
  sync.send(full("e1", 1, {proto_instance("b", "198.51.100.1:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return sub.connected(); }));
  sync.shutdown();
  ASSERT_TRUE(Recorder::eventually([&] { return !sub.connected(); }));
  std::this_thread::sleep_for(1500ms);  // several resubscribe attempts while it is down
  EXPECT_EQ(rec.deliveries(), 1u);
  EXPECT_EQ(rec.last(), (std::vector<std::string>{"b west 198.51.100.1:50002"}));
  EXPECT_EQ(rec.lines_with("lost synchronizer"), 1);
  EXPECT_LE(rec.lines_with("cannot subscribe"), 1);  // not one per attempt

  testing::FakeSynchronizer again;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(again.start(port)) << "port " << port << " not free again";
  ASSERT_TRUE(again.wait_streams(1));
  std::printf("synchronizer back -> resubscribed: %.0f ms (back-off capped at 500 ms here)\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  EXPECT_EQ(again.requests()[0].epoch(), "e1");
  again.send(full("e2", 1, {proto_instance("b", "198.51.100.1:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return sub.connected(); }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rec.deliveries(), 1u);  // same instances: nothing to publish
  EXPECT_EQ(rec.lines_with("connected to synchronizer"), 2);
}

TEST(SyncSubscriberTest, ARestartedSynchronizerThatListsAClusterAgainEndsItsCarryOver) {
  testing::FakeSynchronizer sync;
  ASSERT_TRUE(sync.start());
  Recorder rec;
  SubscriberOptions o = options_for({sync.address()});
  o.carry_over = 10s;  // longer than the test: only the new table can end it
  SyncSubscriber sub(o, rec.deliver(), rec.log());
  ASSERT_TRUE(sub.start().ok());
  ASSERT_TRUE(sync.wait_streams(1));
  sync.send(full("e1", 4, {proto_instance("b", "198.51.100.1:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 1; }));
  sync.end_stream(grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting"));
  ASSERT_TRUE(sync.wait_streams(2));
  sync.send(full("e2", 1, {}));  // nothing imported yet: b stays (no delivery at all)
  ASSERT_TRUE(Recorder::eventually([&] { return sub.connected(); }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rec.deliveries(), 1u);
  EXPECT_EQ(sub.external_instances(), 1u);
  // West exports to the new synchronizer: its list replaces the carried one at once.
  sync.send(delta("e2", 1, {proto_instance("b", "198.51.100.2:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 2; }));
  EXPECT_EQ(rec.last(), (std::vector<std::string>{"b west 198.51.100.2:50002"}));
}

TEST(SyncSubscriberTest, AWrongTokenIsLoggedOnceAndNothingIsDelivered) {
  testing::FakeSynchronizer sync("right");
  ASSERT_TRUE(sync.start());
  Recorder rec;
  SyncSubscriber sub(options_for({sync.address()}, "wrong"), rec.deliver(), rec.log());
  ASSERT_TRUE(sub.start().ok());
  ASSERT_TRUE(Recorder::eventually([&] { return sync.refused() >= 3; }));  // it keeps trying
  EXPECT_EQ(sync.accepted(), 0);
  EXPECT_EQ(rec.deliveries(), 0u);
  EXPECT_FALSE(sub.connected());
  EXPECT_EQ(rec.lines_with("UNAUTHENTICATED"), 1);
}

TEST(SyncSubscriberTest, TheNextSynchronizerIsTriedWhenOneIsDown) {
  testing::FakeSynchronizer sync;
  ASSERT_TRUE(sync.start());
  Recorder rec;
  SyncSubscriber sub(options_for({"127.0.0.1:" + std::to_string(dead_port()), sync.address()}), rec.deliver(), rec.log());
  ASSERT_TRUE(sub.start().ok());
  ASSERT_TRUE(sync.wait_streams(1));
  sync.send(full("e1", 1, {proto_instance("b", "198.51.100.1:50002", "west")}));
  ASSERT_TRUE(Recorder::eventually([&] { return rec.deliveries() == 1; }));
  EXPECT_EQ(rec.lines_with("cannot subscribe"), 1);
  EXPECT_EQ(rec.lines_with("connected to synchronizer " + sync.address()), 1);
}

TEST(SyncSubscriberTest, StartWithoutSynchronizersIsAnError) {
  Recorder rec;
  SyncSubscriber sub(options_for({}), rec.deliver(), rec.log());
  absl::Status s = sub.start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("spec.ringside.multiCluster.synchronizers"), std::string_view::npos) << s;
  sub.stop();
}

// The whole path: synchronizer update -> subscriber -> control plane -> table a shard sees.
TEST(SyncSubscriberTest, ExternalTableChangeToShardTablePublishedLatency) {
  testing::FakeSynchronizer sync;
  ASSERT_TRUE(sync.start());
  ringside::testing::TempDir dir;
  config::StaticOptions so;
  so.file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlaneOptions co;
  co.refresh_interval = 1h;
  co.clusters.local_cluster = "east";
  co.clusters.multi_cluster = true;
  ControlPlane cp(std::make_unique<resolvers::StaticResolver>(so), &registry, co);
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  Recorder rec;
  SyncSubscriber sub(options_for({sync.address()}),
                     [&](std::vector<snapshot::Instance> v) { cp.publish_external(std::move(v)); }, rec.log());
  ASSERT_TRUE(sub.start().ok());
  ASSERT_TRUE(sync.wait_streams(1));
  const int wake = me->wake_fd();
  auto drain = [&] {
    uint64_t n;
    pollfd p{wake, POLLIN, 0};
    while (poll(&p, 1, 0) == 1) (void)!read(wake, &n, sizeof n);
  };
  std::vector<double> ms;
  uint64_t version = 1;
  sync.send(full("e1", version, {}));
  ASSERT_TRUE(Recorder::eventually([&] { return sub.connected(); }));
  for (int round = 0; round < 20; ++round) {
    drain();
    const auto t0 = std::chrono::steady_clock::now();
    sync.send(delta("e1", version++, {proto_instance("b", "198.51.100." + std::to_string(round + 1) + ":50002", "west")}));
    pollfd p{wake, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 5000), 1) << "no table published for round " << round;
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    me->quiescent();
    ASSERT_EQ(registry.current()->find("b", "").size(), static_cast<size_t>(round + 2));
  }
  me->quiescent();
  size_t local = 0;
  for (const snapshot::Instance& i : registry.current()->find("b", "")) local += i.cluster == "east";
  EXPECT_EQ(local, 1u);
  std::sort(ms.begin(), ms.end());
  std::printf("external table change -> shard table published: median %.2f ms, max %.2f ms "
              "(synchronizer write to shard wake-up, loopback)\n",
              ms[ms.size() / 2], ms.back());
  sub.stop();
  cp.stop();
}

}  // namespace
}  // namespace ringside::resolvers::external
