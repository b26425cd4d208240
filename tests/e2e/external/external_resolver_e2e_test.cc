// Sidecar a (cluster east) calls app b, which is registered only in cluster west: a learns it
// from its synchronizer subscription alone (its own registry never lists b).
//
//   client ─HTTP─► a (east, own SQLite registry) ─gRPC CallLocal─► b (west) ─HTTP─► echo app
//                   ▲ Subscribe
//              synchronizer (an in-test gRPC Synchronizer driven update by update)
//
// The synchronizer is shut down and restarted on its port while a client calls b without pause:
// a keeps its table, no call fails, and it resubscribes.
#include <gtest/gtest.h>

#include <atomic>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"
#include "tests/unit/external/fake_synchronizer.h"

namespace ringside::e2e {
namespace {

using ringside::sync::v1::TableUpdate;

// The table the synchronizer serves: b at `address`, in cluster west.
TableUpdate table_with_b(const std::string& epoch, const std::string& address) {
  TableUpdate u;
  u.set_kind(TableUpdate::FULL);
  u.set_epoch(epoch);
  u.set_version(1);
  u.set_clusters(1);
  ringside::sync::v1::Instance* b = u.add_upserts();
  b->set_app_id("b");
  b->set_namespace_("default");
  b->set_address(address);
  b->set_cluster("west");
  return u;
}

// Calls b through a until stopped; counts answers and failures.
class Caller {
 public:
  explicit Caller(uint16_t port) : port_(port), thread_([this] { run(); }) {}
  ~Caller() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }
  std::string first_failure() const { return first_failure_; }

 private:
  void run() {
    while (!stop_) {
      absl::StatusOr<HttpMessage> r = Invoke(port_, "POST", "b", "echo", "ping", {}, 5s);
      if (r.ok() && r->status() == 200) {
        ++ok_;
      } else {
        if (failed_++ == 0) first_failure_ = r.ok() ? absl::StrCat(r->status(), " ", r->body) : r.status().ToString();
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  uint16_t port_;                 // a's HTTP port
  std::atomic<bool> stop_{false};  // set by stop()
  std::atomic<int> ok_{0};         // 200 answers
  std::atomic<int> failed_{0};     // anything else
  std::string first_failure_;      // written before failed_ is first incremented past 0
  std::thread thread_;             // the calling thread (last: starts in the constructor)
};

class ExternalResolverTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!HasFailure()) return;
    if (a_.process) std::cerr << "--- sidecar a (east):\n" << a_.process->LogTail() << "\n";
    if (b_.process) std::cerr << "--- sidecar b (west):\n" << b_.process->LogTail(1500) << "\n";
  }
  double AMetric(std::string_view name) { return ReadMetric(a_.ports.metrics, name).value_or(-1); }
  bool WaitForAMetric(std::string_view name, double value) {
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      if (AMetric(name) == value) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  // b in cluster west with its echo app and its own registry.
  void StartB() {
    auto app = StartEchoApp(dir_, &app_port_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = std::move(*app);
    const std::string config = dir_.File("west.yaml");
    std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  ringside:\n"
                          << "    multiCluster:\n      cluster: west\n";
    auto b = StartSidecar({.app_id = "b", .app_port = app_port_, .nr_db = dir_.File("west.db"),
                           .extra_args = {"--config", config}},
                          dir_);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = std::move(*b);
  }
  // a in cluster east subscribed to `synchronizer`, with a registry of its own (b is not in it).
  void StartA(const std::string& synchronizer, const std::string& token) {
    const std::string config = dir_.File("east.yaml");
    std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  ringside:\n"
                          << "    multiCluster:\n      cluster: east\n      synchronizers: [\"" << synchronizer
                          << "\"]\n      token: " << token << "\n";
    auto a = StartSidecar({.app_id = "a", .nr_db = dir_.File("east.db"), .extra_args = {"--config", config}}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> app_;
  uint16_t app_port_ = 0;
  Sidecar b_;
  Sidecar a_;
};

TEST_F(ExternalResolverTest, AnAppOnlyInAnotherClusterIsCalledAndSurvivesASynchronizerRestart) {
  ASSERT_FALSE(dir_.path().empty());
  StartB();
  ringside::testing::FakeSynchronizer sync("s3cret");
  ASSERT_TRUE(sync.start());
  const int sync_port = sync.port();
  StartA(sync.address(), "s3cret");
  ASSERT_TRUE(sync.wait_streams(1)) << "a never subscribed";
  EXPECT_EQ(sync.requests()[0].cluster(), "east");
  EXPECT_EQ(sync.requests()[0].app_id(), "a");
  const std::string b_address = absl::StrCat("127.0.0.1:", b_.ports.internal);
  // A call made before the synchronizer's first table parks (a's own registry has no b) and is
  // answered once the table arrives, instead of failing "no host found".
  std::optional<absl::StatusOr<HttpMessage>> early;
  std::thread early_call([&] { early = Invoke(a_.ports.http, "POST", "b", "echo", "early"); });
  std::this_thread::sleep_for(300ms);
  sync.send(table_with_b("e1", b_address));
  early_call.join();
  ASSERT_TRUE(early.has_value() && early->ok()) << (early ? early->status().ToString() : "no answer");
  EXPECT_EQ((*early)->status(), 200) << (*early)->body;
  ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s)) << "a cannot call b through the external table";
  EXPECT_EQ(AMetric("ringside_external_instances"), 1);
  EXPECT_EQ(AMetric("ringside_sync_subscription_connected"), 1);
  EXPECT_GE(AMetric("ringside_sync_updates_received_total"), 1);

  Caller caller(a_.ports.http);
  std::this_thread::sleep_for(300ms);
  sync.shutdown();  // the synchronizer goes away: a keeps its table
  ASSERT_TRUE(WaitForAMetric("ringside_sync_subscription_connected", 0));
  const int ok_at_loss = caller.ok();
  std::this_thread::sleep_for(1500ms);  // a is blind to other clusters' changes, not to b
  // At least one answer while the synchronizer is away (bounded: a loaded machine may not have
  // completed one in the 1.5 s).
  for (int i = 0; i < 100 && caller.ok() == ok_at_loss && caller.failed() == 0; ++i) std::this_thread::sleep_for(100ms);
  const int ok_while_down = caller.ok() - ok_at_loss;
  EXPECT_EQ(AMetric("ringside_external_instances"), 1);

  ringside::testing::FakeSynchronizer again("s3cret");
  ASSERT_TRUE(again.start(sync_port)) << "port " << sync_port << " not free again";
  ASSERT_TRUE(again.wait_streams(1)) << "a did not resubscribe";
  EXPECT_EQ(again.requests()[0].epoch(), "e1");  // it says what it holds
  again.send(table_with_b("e2", b_address));
  ASSERT_TRUE(WaitForAMetric("ringside_sync_subscription_connected", 1));
  std::this_thread::sleep_for(300ms);
  caller.stop();
  std::printf("calls to b across the synchronizer restart: %d answered (%d while it was down), %d failed\n",
              caller.ok(), ok_while_down, caller.failed());
  EXPECT_GT(ok_while_down, 0);
  EXPECT_EQ(caller.failed(), 0) << "first failure: " << caller.first_failure();

  // The feed is live: removing b from the external table removes it from a's.
  TableUpdate gone;
  gone.set_kind(TableUpdate::DELTA);
  gone.set_epoch("e2");
  gone.set_base_version(1);
  gone.set_version(2);
  ringside::sync::v1::InstanceKey* k = gone.add_removals();
  k->set_app_id("b");
  k->set_namespace_("default");
  k->set_address(b_address);
  k->set_cluster("west");
  again.send(gone);
  ASSERT_TRUE(WaitForAMetric("ringside_external_instances", 0));
  // The gauge counts what a received; its control plane publishes the table to the shards a
  // moment later (sooner or later depending on what that thread is doing), so the call is
  // retried, bounded, until b is gone from the shards' table too.
  absl::StatusOr<HttpMessage> r = absl::UnknownError("not called");
  for (int i = 0; i < 50; ++i) {
    r = Invoke(a_.ports.http, "POST", "b", "echo", "ping");
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->status() != 200) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(r->status(), 200) << "b is in no table any more, 5 s after the removal: " << r->body;
  const std::string log = a_.process->Log();
  EXPECT_NE(log.find("cluster east"), std::string::npos) << "start-up line names the cluster";
  EXPECT_NE(log.find("lost synchronizer " + sync.address()), std::string::npos);
}

// The same with the real synchronizers: ringside-sync for west (static registry listing b) and
// for east (a subscribes to it), peered with each other. West's synchronizer is killed and
// restarted, then east's: a keeps its table throughout and no call fails.
class RealSyncTest : public ExternalResolverTest {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      if (sync_west_) std::cerr << "--- ringside-sync west:\n" << sync_west_->LogTail(2000) << "\n";
      if (sync_east_) std::cerr << "--- ringside-sync east:\n" << sync_east_->LogTail(2000) << "\n";
    }
    ExternalResolverTest::TearDown();
  }
  // Writes the config of one synchronizer; `apps` is its static registry's `apps:` list.
  std::string SyncConfig(const std::string& cluster, uint16_t port, const std::string& apps, const std::string& peer,
                         uint16_t peer_port) {
    const std::string path = dir_.File("sync-" + cluster + ".yaml");
    std::ofstream(path) << "cluster: " << cluster << "\nlisten: 127.0.0.1:" << port << "\nmetricsPort: -1\n"
                        << "nameResolution:\n  component: static\n  configuration:\n    apps: " << apps << "\n"
                        << "registryRefreshInterval: 200ms\n"
                        << "peers:\n  - cluster: " << peer << "\n    addresses: [\"127.0.0.1:" << peer_port << "\"]\n"
                        << "    token: peer-s3cret\n"
                        << "subscriberToken: t0ken\nheartbeatInterval: 500ms\nexportTtl: 5s\n";
    return path;
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> StartSync(const std::string& cluster, const std::string& config,
                                                          uint16_t port) {
    static int starts = 0;
    auto p = ChildProcess::Spawn(BinPath("ringside-sync"), {"--config", config}, {},
                                 dir_.File(absl::StrCat("sync-", cluster, "-", ++starts, ".log")));
    if (!p.ok()) return p.status();
    if (!WaitForListening(port, 10s)) {
      return absl::UnavailableError(absl::StrCat("ringside-sync ", cluster, " not listening: ", (*p)->LogTail()));
    }
    return p;
  }

  std::unique_ptr<ChildProcess> sync_west_;
  std::unique_ptr<ChildProcess> sync_east_;
};

TEST_F(RealSyncTest, AnAppOnlyInAnotherClusterIsCalledThroughRealSynchronizersThatRestart) {
  ASSERT_TRUE(BinaryExists("ringside-sync")) << "build/bin/ringside-sync is missing: build target ringside-sync";
  ASSERT_FALSE(dir_.path().empty());
  StartB();
  const uint16_t west_port = PickFreePort(), east_port = PickFreePort();
  const std::string b_address = absl::StrCat("127.0.0.1:", b_.ports.internal);
  const std::string west_cfg =
      SyncConfig("west", west_port, absl::StrCat("[{appId: b, address: \"", b_address, "\"}]"), "east", east_port);
  // East's registry has an app of its own (the static resolver needs at least one entry).
  const std::string east_cfg = SyncConfig("east", east_port, "[{appId: c, address: \"127.0.0.1:9\"}]", "west", west_port);
  auto west = StartSync("west", west_cfg, west_port);
  ASSERT_TRUE(west.ok()) << west.status();
  sync_west_ = std::move(*west);
  auto east = StartSync("east", east_cfg, east_port);
  ASSERT_TRUE(east.ok()) << east.status();
  sync_east_ = std::move(*east);
  StartA(absl::StrCat("127.0.0.1:", east_port), "t0ken");
  const auto t0 = Clock::now();
  ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 20s)) << "a cannot call b through the synchronizers";
  std::printf("a started -> b (other cluster) invocable: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
  EXPECT_EQ(AMetric("ringside_external_instances"), 1);

  Caller caller(a_.ports.http);
  std::this_thread::sleep_for(300ms);
  // West's synchronizer dies and comes back: east keeps west's instances for exportTtl.
  sync_west_->Signal(SIGKILL);
  ASSERT_TRUE(sync_west_->WaitExit(5s).has_value());
  std::this_thread::sleep_for(1s);
  west = StartSync("west", west_cfg, west_port);
  ASSERT_TRUE(west.ok()) << west.status();
  sync_west_ = std::move(*west);
  std::this_thread::sleep_for(1s);
  const int ok_after_west = caller.ok();

  // East's synchronizer (the one a subscribes to) dies: a keeps its table and resubscribes to
  // the new one, whose first table may lack west until west's export reconnects.
  sync_east_->Signal(SIGKILL);
  ASSERT_TRUE(sync_east_->WaitExit(5s).has_value());
  ASSERT_TRUE(WaitForAMetric("ringside_sync_subscription_connected", 0));
  std::this_thread::sleep_for(1s);
  east = StartSync("east", east_cfg, east_port);
  ASSERT_TRUE(east.ok()) << east.status();
  sync_east_ = std::move(*east);
  const auto back = Clock::now();
  ASSERT_TRUE(WaitForAMetric("ringside_sync_subscription_connected", 1)) << "a did not resubscribe";
  std::printf("east's synchronizer back -> a resubscribed: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - back).count()));
  ASSERT_TRUE(WaitForAMetric("ringside_external_instances", 1));
  std::this_thread::sleep_for(1s);
  caller.stop();
  std::printf("calls to b across both synchronizer restarts: %d answered (%d by the end of west's restart), %d failed\n",
              caller.ok(), ok_after_west, caller.failed());
  EXPECT_GT(ok_after_west, 0);
  EXPECT_GT(caller.ok(), ok_after_west);
  EXPECT_EQ(caller.failed(), 0) << "first failure: " << caller.first_failure();
  EXPECT_EQ(AMetric("ringside_external_instances"), 1);
}

}  // namespace
}  // namespace ringside::e2e
