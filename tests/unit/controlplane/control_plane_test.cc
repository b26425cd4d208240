#include "controlplane/control_plane.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <thread>

#include "controlplane/resolvers/sqlite_resolver.h"
#include "controlplane/resolvers/static_resolver.h"
#include "tests/unit/controlplane/temp_dir.h"

namespace ringside {
namespace {

using namespace std::chrono_literals;

// Waits up to 5 s for `pred`.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// Instances of `app` in the current table, read the way a shard does: as a registered reader
// that passes a quiescent point before each look (so the pointer is never held across one).
size_t count(snapshot::SnapshotRegistry& registry, snapshot::SnapshotRegistry::Reader* me, const char* app) {
  me->quiescent();
  return registry.current()->find(app, "").size();
}

std::unique_ptr<resolvers::Resolver> static_file_resolver(const std::string& file) {
  config::StaticOptions o;
  o.file = file;
  return std::make_unique<resolvers::StaticResolver>(o);
}

TEST(ControlPlaneTest, PublishesAtStartAndOnChangeOnly) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 20ms});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  // The first table is there as soon as start() returns.
  me->quiescent();
  ASSERT_EQ(registry.current()->find("b", "default").size(), 1u);
  EXPECT_TRUE(registry.current()->namespace_aware());
  EXPECT_EQ(cp.tables_published(), 1u);
  const uint64_t id = registry.current()->find("b", "")[0].id;

  std::this_thread::sleep_for(100ms);  // several refresh ticks, nothing changed
  EXPECT_EQ(cp.tables_published(), 1u);

  dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n  - appId: b\n    address: 127.0.0.1:50003\n");
  cp.request_refresh();
  ASSERT_TRUE(eventually([&] { return count(registry, me, "b") == 2; }));
  EXPECT_EQ(cp.tables_published(), 2u);
  EXPECT_NE(registry.current()->find_by_id(id), nullptr);  // ids survive the swap
  // Once the only reader has passed a quiescent point, the old table is reclaimed.
  me->offline();
  EXPECT_TRUE(eventually([&] { return registry.retired_count() == 0; }));
  cp.stop();
  cp.stop();
}

TEST(ControlPlaneTest, RequestRefreshWakesTheThreadEarly) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps: []\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h});  // no periodic refresh in this test
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  dir.write("apps.yaml", "apps:\n  - appId: c\n    address: 127.0.0.1:50009\n");
  cp.request_refresh();
  EXPECT_TRUE(eventually([&] { return count(registry, me, "c") == 1; }));
}

TEST(ControlPlaneTest, StartErrorsAreReturned) {
  snapshot::SnapshotRegistry registry(1);
  ControlPlane cp(static_file_resolver("/nonexistent/apps.yaml"), &registry);
  EXPECT_FALSE(cp.start(resolvers::SelfRegistration{}).ok());
  cp.stop();  // safe after a failed start
}

TEST(ControlPlaneTest, SqliteRegistersHeartbeatsAndDeregistersOnStop) {
  testing::TempDir dir;
  config::SqliteOptions o;
  o.path = dir.file("nr.db");
  o.update_interval = 2s;
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  resolvers::SelfRegistration self{.app_id = "a", .app_namespace = "default", .address = "127.0.0.1:40001", .http_port = 3500};
  {
    ControlPlane cp(std::make_unique<resolvers::SqliteResolver>(o), &registry, {.refresh_interval = 50ms});
    ASSERT_TRUE(cp.start(self).ok());
    ASSERT_EQ(count(registry, me, "a"), 1u);
    std::this_thread::sleep_for(3500ms);  // past updateInterval: alive only thanks to heartbeats
    EXPECT_EQ(count(registry, me, "a"), 1u);
  }
  resolvers::SqliteResolver other(o);
  ASSERT_TRUE(other.start({.app_id = "z", .app_namespace = "default", .address = "127.0.0.1:40009", .http_port = 3500}, nullptr).ok());
  absl::StatusOr<std::vector<snapshot::Instance>> all = other.list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);  // only z: a deregistered when its ControlPlane stopped
  EXPECT_EQ((*all)[0].app_id, "z");
}

// A pushing resolver whose registry is an in-memory map the test edits: lookup() answers from
// it on a thread of its own, like a network resolver; unknown app ids are never answered.
class MapResolver final : public resolvers::Resolver {
 public:
  explicit MapResolver(std::map<std::string, std::string> apps) : apps_(std::move(apps)) {}
  absl::Status start(const resolvers::SelfRegistration&, resolvers::InstanceSink* sink) override {
    sink_ = sink;
    return absl::OkStatus();
  }
  bool lists() const override { return false; }
  void lookup(std::string_view app_id, std::string_view ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++lookups_;
    auto it = apps_.find(std::string(app_id));
    if (it == apps_.end()) return;  // silence: the control plane's lookup bound answers
    std::string app(app_id), n(ns), address = it->second;
    threads_.emplace_back([this, app, n, address] {
      std::vector<snapshot::Instance> v;
      v.push_back(*snapshot::make_instance(app, n, address));
      sink_->publish_app(app, n, std::move(v));
    });
  }
  void stop() override {
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  bool namespace_aware() const override { return false; }
  int lookups() {
    std::lock_guard<std::mutex> lock(mu_);
    return lookups_;
  }

 private:
  std::map<std::string, std::string> apps_;  // app id -> address
  resolvers::InstanceSink* sink_ = nullptr;  // the control plane
  std::mutex mu_;                            // guards lookups_ and threads_
  int lookups_ = 0;                          // lookup() calls
  std::vector<std::thread> threads_;         // answering threads
};

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

bool answered(snapshot::SnapshotRegistry& registry, snapshot::SnapshotRegistry::Reader* me, const char* app) {
  me->quiescent();
  return registry.current()->answered(app, "");
}

TEST(ControlPlaneTest, ListingResolverAnswersLookupsAndPublishesNoneFoundForAWhile) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h, .negative_ttl = 300ms});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  EXPECT_FALSE(answered(registry, me, "nobody"));
  ASSERT_TRUE(me->request_lookup("nobody", ""));
  // Answered "none found" by listing again (the refresh interval is an hour).
  ASSERT_TRUE(eventually([&] { return answered(registry, me, "nobody"); }));
  EXPECT_TRUE(registry.current()->find("nobody", "").empty());
  EXPECT_EQ(cp.lookups_requested(), 1u);
  // The negative answer expires, so a later call asks again.
  ASSERT_TRUE(eventually([&] { return !answered(registry, me, "nobody"); }));
  // An app that appears in the registry is found by the next lookup, without waiting an hour.
  dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n  - appId: late\n    address: 127.0.0.1:50005\n");
  ASSERT_TRUE(me->request_lookup("late", ""));
  ASSERT_TRUE(eventually([&] { return count(registry, me, "late") == 1; }));
}

TEST(ControlPlaneTest, PushingResolverLookupsArePublishedAndUnansweredOnesTimeOut) {
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  auto owned = std::make_unique<MapResolver>(std::map<std::string, std::string>{{"b", "[::1]:50002"}});
  MapResolver* r = owned.get();
  ControlPlane cp(std::move(owned), &registry, {.negative_ttl = 10s, .lookup_timeout = 200ms});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  const int wake = me->wake_fd();
  uint64_t drained;
  while (readable(wake, 0)) (void)!read(wake, &drained, sizeof drained);

  // Many requests for one app id make one lookup.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(me->request_lookup("b", ""));
  ASSERT_TRUE(eventually([&] { return count(registry, me, "b") == 1; }));
  EXPECT_EQ(r->lookups(), 1);
  EXPECT_EQ(registry.current()->find("b", "")[0].addr.to_string(), "[::1]:50002");
  // The publish woke the shard's eventfd.
  EXPECT_TRUE(readable(wake, 1000));

  ASSERT_TRUE(me->request_lookup("silent", ""));
  ASSERT_TRUE(eventually([&] { return answered(registry, me, "silent"); }));
  EXPECT_TRUE(registry.current()->find("silent", "").empty());
  EXPECT_EQ(count(registry, me, "b"), 1u);  // earlier answers stay
}

// Host names are bound through the HostResolver; an answer that arrives later republishes.
class FixedHosts final : public dns::HostResolver {
 public:
  std::vector<snapshot::SocketAddress> addresses(std::string_view host) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = answers_.find(std::string(host));
    return it == answers_.end() ? std::vector<snapshot::SocketAddress>{} : it->second;
  }
  void set_on_change(std::function<void()> f) override { on_change_ = std::move(f); }
  void answer(const std::string& host, std::vector<std::string> ips) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<snapshot::SocketAddress>& v = answers_[host];
      for (const std::string& ip : ips) {
        snapshot::SocketAddress a;
        EXPECT_TRUE(snapshot::parse_ip_literal(ip, 0, &a));
        v.push_back(a);
      }
    }
    on_change_();
  }

 private:
  std::mutex mu_;                                                          // guards answers_
  std::map<std::string, std::vector<snapshot::SocketAddress>> answers_;    // host -> addresses
  std::function<void()> on_change_;                                        // the control plane's
};

TEST(ControlPlaneTest, HostNamesAreBoundToEveryAddressTheDnsAnswers) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: b.example.internal:50002\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  FixedHosts dns;
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h, .host_resolver = &dns});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  EXPECT_EQ(count(registry, me, "b"), 0u);  // not answered yet: not dialable, not published
  dns.answer("b.example.internal", {"10.0.0.7", "2001:db8::7"});
  ASSERT_TRUE(eventually([&] { return count(registry, me, "b") == 2; }));
  me->quiescent();
  std::span<const snapshot::Instance> b = registry.current()->find("b", "");
  std::vector<std::string> got{b[0].addr.to_string(), b[1].addr.to_string()};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.7:50002", "[2001:db8::7]:50002"}));
  EXPECT_EQ(b[0].address_text, "b.example.internal:50002");  // the name stays the :authority
}


// ---- multi-cluster: local and external instances in one table ----

snapshot::ClusterSettings east() {
  snapshot::ClusterSettings c;
  c.local_cluster = "east";
  c.multi_cluster = true;
  c.strategies.defaults = snapshot::ClusterStrategy::kLocalFirst;
  return c;
}

snapshot::Instance external(const char* app, const char* address, const char* cluster) {
  return *snapshot::make_instance(app, "default", address, cluster);
}

// "cluster address" of every instance of app in the current table, sorted.
std::vector<std::string> where(snapshot::SnapshotRegistry& registry, snapshot::SnapshotRegistry::Reader* me,
                               const char* app) {
  me->quiescent();
  std::vector<std::string> out;
  for (const snapshot::Instance& i : registry.current()->find(app, "")) out.push_back(i.cluster + " " + i.address_text);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ControlPlaneMultiClusterTest, LocalAndExternalInstancesShareOneTableEachTaggedWithItsCluster) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml",
                               "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n"
                               "  - appId: b\n    address: 127.0.0.1:50003\n    cluster: east\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h, .clusters = east()});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  // The untagged local entry carries our cluster name.
  EXPECT_EQ(where(registry, me, "b"), (std::vector<std::string>{"east 127.0.0.1:50002", "east 127.0.0.1:50003"}));
  me->quiescent();
  EXPECT_EQ(registry.current()->clusters().local_cluster, "east");  // the settings reach the shards
  EXPECT_TRUE(registry.current()->clusters().multi_cluster);

  cp.publish_external({external("b", "198.51.100.7:50002", "west"), external("b", "203.0.113.9:50002", "north")});
  ASSERT_TRUE(eventually([&] { return where(registry, me, "b").size() == 4; }));
  EXPECT_EQ(where(registry, me, "b"),
            (std::vector<std::string>{"east 127.0.0.1:50002", "east 127.0.0.1:50003", "north 203.0.113.9:50002",
                                      "west 198.51.100.7:50002"}));
  EXPECT_EQ(cp.external_instances(), 2u);
  me->quiescent();
  size_t local = 0;
  for (const snapshot::Instance& i : registry.current()->find("b", "")) local += registry.current()->clusters().is_local(i.cluster);
  EXPECT_EQ(local, 2u);
}

TEST(ControlPlaneMultiClusterTest, ExternalInstancesOfOurOwnClusterAreDropped) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h, .clusters = east()});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  // A stale echo of our own cluster (an instance our registry no longer has) must not come back.
  cp.publish_external({external("b", "127.0.0.1:59999", "east"), external("b", "198.51.100.7:50002", "west")});
  ASSERT_TRUE(eventually([&] { return where(registry, me, "b").size() == 2; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(where(registry, me, "b"), (std::vector<std::string>{"east 127.0.0.1:50002", "west 198.51.100.7:50002"}));
  EXPECT_EQ(cp.external_instances(), 1u);
}

// A cluster whose registry carries no namespaces (SQLite rows without one) exports instances
// with namespace "": in our namespace-aware table they serve our own namespace, the one a call
// without ".namespace" targets, instead of matching nothing.
TEST(ControlPlaneMultiClusterTest, ExternalInstancesWithoutANamespaceServeOurOwn) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h, .clusters = east()});
  resolvers::SelfRegistration self;
  self.app_namespace = "default";
  ASSERT_TRUE(cp.start(self).ok());
  me->quiescent();
  ASSERT_TRUE(registry.current()->namespace_aware());
  cp.publish_external({*snapshot::make_instance("b", "", "203.0.113.11:50002", "south")});
  auto in_default = [&] {
    me->quiescent();
    return registry.current()->find("b", "default").size();
  };
  ASSERT_TRUE(eventually([&] { return in_default() == 2; })) << in_default();
  me->quiescent();
  EXPECT_TRUE(registry.current()->find("b", "prod").empty());
}

TEST(ControlPlaneMultiClusterTest, EachExternalListReplacesTheLastAndLocalInstancesStay) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps:\n  - appId: a\n    address: 127.0.0.1:50001\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h, .clusters = east()});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  cp.publish_external({external("b", "198.51.100.7:50002", "west"), external("c", "198.51.100.8:50002", "west")});
  ASSERT_TRUE(eventually([&] { return where(registry, me, "c").size() == 1; }));
  EXPECT_EQ(where(registry, me, "b").size(), 1u);
  cp.publish_external({external("b", "203.0.113.9:50002", "north")});
  ASSERT_TRUE(eventually([&] { return where(registry, me, "c").empty(); }));
  EXPECT_EQ(where(registry, me, "b"), (std::vector<std::string>{"north 203.0.113.9:50002"}));
  EXPECT_EQ(where(registry, me, "a"), (std::vector<std::string>{"east 127.0.0.1:50001"}));
  const uint64_t published = cp.tables_published();
  cp.publish_external({external("b", "203.0.113.9:50002", "north")});  // the same list again
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(cp.tables_published(), published);  // nothing changed: no table, no shard wake-up
  cp.publish_external({});
  ASSERT_TRUE(eventually([&] { return where(registry, me, "b").empty(); }));
  EXPECT_EQ(where(registry, me, "a").size(), 1u);
}

TEST(ControlPlaneMultiClusterTest, AnAppKnownOnlyExternallyIsAnsweredWithoutAskingTheLocalResolver) {
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  auto owned = std::make_unique<MapResolver>(std::map<std::string, std::string>{{"b", "127.0.0.1:50002"}});
  MapResolver* r = owned.get();
  ControlPlane cp(std::move(owned), &registry, {.negative_ttl = 10s, .lookup_timeout = 10s, .clusters = east()});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  cp.publish_external({external("x", "198.51.100.7:50002", "west")});
  // Answered by the table itself: a call to x never parks.
  ASSERT_TRUE(eventually([&] { return answered(registry, me, "x"); }));
  EXPECT_EQ(where(registry, me, "x"), (std::vector<std::string>{"west 198.51.100.7:50002"}));
  // A racing shard that still asks is not turned into a local lookup.
  ASSERT_TRUE(me->request_lookup("x", ""));
  ASSERT_TRUE(eventually([&] { return cp.lookups_requested() == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(r->lookups(), 0);
}

TEST(ControlPlaneMultiClusterTest, AParkedLookupIsAnsweredByWhicheverSourceKnowsTheApp) {
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  // The local resolver never answers "y" (its lookup bound is long): the external feed does.
  ControlPlane cp(std::make_unique<MapResolver>(std::map<std::string, std::string>{{"b", "127.0.0.1:50002"}}),
                  &registry, {.negative_ttl = 10s, .lookup_timeout = 10s, .clusters = east()});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  ASSERT_TRUE(me->request_lookup("y", ""));
  ASSERT_TRUE(me->request_lookup("b", ""));
  ASSERT_TRUE(eventually([&] { return count(registry, me, "b") == 1; }));  // local answer
  EXPECT_FALSE(answered(registry, me, "y"));                                 // still parked
  cp.publish_external({external("y", "198.51.100.7:50002", "west")});
  ASSERT_TRUE(eventually([&] { return count(registry, me, "y") == 1; }));  // external answer
  EXPECT_EQ(where(registry, me, "b"), (std::vector<std::string>{"east 127.0.0.1:50002"}));
}

TEST(ControlPlaneMultiClusterTest, ExternalHostNamesAreBoundByTheDnsClient) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps: []\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  FixedHosts dns;
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h, .host_resolver = &dns, .clusters = east()});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  cp.publish_external({external("b", "b.west.example:50002", "west")});
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(count(registry, me, "b"), 0u);  // not dialable until DNS answers
  dns.answer("b.west.example", {"198.51.100.20"});
  ASSERT_TRUE(eventually([&] { return count(registry, me, "b") == 1; }));
  me->quiescent();
  EXPECT_EQ(registry.current()->find("b", "")[0].addr.to_string(), "198.51.100.20:50002");
  EXPECT_EQ(registry.current()->find("b", "")[0].cluster, "west");
}

TEST(ControlPlaneMultiClusterTest, ExternalChangeToPublishedTableLatency) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps: []\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, {.refresh_interval = 1h, .clusters = east()});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  const int wake = me->wake_fd();
  std::vector<double> ms;
  for (int round = 1; round <= 20; ++round) {
    uint64_t drained;
    while (readable(wake, 0)) (void)!read(wake, &drained, sizeof drained);
    std::vector<snapshot::Instance> list;
    for (int i = 0; i < round * 50; ++i) {
      list.push_back(*snapshot::make_instance("app" + std::to_string(i % 20), "default",
                                              "198.51.100." + std::to_string(1 + i % 200) + ":" + std::to_string(40000 + i), "west"));
    }
    const auto t0 = std::chrono::steady_clock::now();
    cp.publish_external(std::move(list));
    ASSERT_TRUE(readable(wake, 5000));  // the shard's wake-up: a new table is published
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    me->quiescent();
    ASSERT_EQ(registry.current()->size(), static_cast<size_t>(round * 50));
  }
  std::sort(ms.begin(), ms.end());
  std::printf("external table change -> shard table published: median %.2f ms, max %.2f ms (50..1000 instances)\n",
              ms[ms.size() / 2], ms.back());
}

TEST(ControlPlaneMultiClusterTest, AtStartUpALocalNoneFoundWaitsForTheFirstExternalList) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps: []\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry,
                  {.refresh_interval = 1h, .negative_ttl = 10s, .lookup_timeout = 1h, .clusters = east(), .await_external = true});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  // The sidecar just started: the call to b parks; the local registry says none, but the
  // synchronizer has not spoken yet, so that answer is held back.
  ASSERT_TRUE(me->request_lookup("b", ""));
  ASSERT_TRUE(eventually([&] { return cp.lookups_requested() == 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(answered(registry, me, "b"));
  ASSERT_TRUE(me->request_lookup("nobody", ""));
  ASSERT_TRUE(eventually([&] { return cp.lookups_requested() == 2; }));
  cp.publish_external({external("b", "198.51.100.7:50002", "west")});
  ASSERT_TRUE(eventually([&] { return count(registry, me, "b") == 1; }));
  // Nobody has "nobody": answered none-found by the external list's arrival (the lookup bound
  // is an hour, so it cannot be the bound that answers).
  ASSERT_TRUE(eventually([&] { return answered(registry, me, "nobody"); }));
  EXPECT_TRUE(registry.current()->find("nobody", "").empty());
  // From now on the local answer is final at once.
  ASSERT_TRUE(me->request_lookup("later", ""));
  ASSERT_TRUE(eventually([&] { return answered(registry, me, "later"); }));
}

TEST(ControlPlaneMultiClusterTest, AFirstExternalListThatNeverComesDelaysNoneFoundOnlyUpToTheLookupBound) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps: []\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry,
                  {.refresh_interval = 1h, .negative_ttl = 10s, .lookup_timeout = 300ms, .clusters = east(), .await_external = true});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(me->request_lookup("b", ""));
  ASSERT_TRUE(eventually([&] { return answered(registry, me, "b"); }));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 300ms);  // held back (the bound counts from the request), then answered
  std::printf("none-found held back for the first external list: %.0f ms (bound 300 ms)\n",
              std::chrono::duration<double, std::milli>(waited).count());
  EXPECT_TRUE(registry.current()->find("b", "").empty());
}

}  // namespace
}  // namespace ringside
