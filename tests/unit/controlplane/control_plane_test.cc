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

}  // namespace
}  // namespace ringside
