// Cluster strategies seen from outside, on loopback with real processes and no synchronizer:
// four echo apps behind four callee sidecars of app id "b", two tagged "east" and two "west" in
// caller a's static list; a is in cluster "east" (spec.ringside.multiCluster.cluster). Which
// instance answered is read from each callee's ringside_calllocal_served_total.
//   - local-only never leaves east (and an app id with no east instance gets Dapr's error
//     naming the strategy); external-only never stays;
//   - local-first stays in east until both east callees are SIGKILLed, then every call still
//     succeeds from west (connect failures fail over at once: 0 failed calls); external-first
//     the reverse;
//   - a call the east callee may already have delivered is not replayed in west;
//   - a strategy name that does not exist makes ringsided exit 2.
#include <gtest/gtest.h>

#include <signal.h>

#include <array>
#include <fstream>
#include <future>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

constexpr int kCallees = 4;  // 0, 1: east (local to a); 2, 3: west
constexpr int kCalls = 40;

bool InEast(int i) { return i < 2; }

class ClusterStrategyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    for (int i = 0; i < kCallees; ++i) {
      auto app = StartEchoApp(dir_, &app_ports_[i]);
      ASSERT_TRUE(app.ok()) << app.status();
      apps_[i] = std::move(*app);
      // Each callee registers in its own file: a knows them only from its static list.
      auto b = StartSidecar({.app_id = "b", .app_port = app_ports_[i], .nr_db = dir_.File(absl::StrCat("b", i, ".db"))},
                            dir_);
      ASSERT_TRUE(b.ok()) << b.status();
      b_[i] = std::move(*b);
    }
  }
  void TearDown() override {
    if (!HasFailure()) return;
    if (a_.process) std::cerr << "--- sidecar a:\n" << a_.process->LogTail() << "\n";
    for (int i = 0; i < kCallees; ++i) {
      if (b_[i].process) std::cerr << "--- callee " << i << ":\n" << b_[i].process->LogTail(1500) << "\n";
    }
  }

  // The static `apps:` entry of callee i as app id `app_id`.
  std::string Entry(int i, const std::string& app_id = "b") {
    return absl::StrCat("        - {appId: ", app_id, ", address: \"127.0.0.1:", b_[i].ports.internal,
                        "\", cluster: ", InEast(i) ? "east" : "west", "}\n");
  }
  // The `multiCluster` section body and the static list; writes a's configuration file.
  std::string WriteConfig(const std::string& multi_cluster, const std::string& apps) {
    const std::string config = dir_.File("a.yaml");
    std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: a}\n"
                             "spec:\n  nameResolution:\n    component: static\n    configuration:\n      apps:\n"
                          << apps << "  ringside:\n    multiCluster:\n" << multi_cluster;
    return config;
  }
  // Starts caller a in cluster east with `strategy` and every callee listed as b (plus `extra`).
  void StartCaller(const std::string& strategy, const std::string& extra = {}) {
    std::string apps;
    for (int i = 0; i < kCallees; ++i) apps += Entry(i);
    StartCallerWith(absl::StrCat("      cluster: east\n      strategy: ", strategy, "\n"), apps + extra);
  }
  void StartCallerWith(const std::string& multi_cluster, const std::string& apps) {
    const std::string config = WriteConfig(multi_cluster, apps);
    auto a = StartSidecar({.app_id = "a", .nr_db = dir_.File("a.db"), .extra_args = {"--config", config}}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
  }

  // CallLocal calls callee i has served so far (0 when it is down: it served nothing more).
  int Served(int i) {
    if (!b_[i].process || !b_[i].process->Alive()) return 0;
    std::optional<double> v = ReadMetric(b_[i].ports.metrics, "ringside_calllocal_served_total");
    return v ? static_cast<int>(*v) : 0;
  }
  std::array<int, kCallees> ServedAll() {
    std::array<int, kCallees> out;
    for (int i = 0; i < kCallees; ++i) out[i] = Served(i);
    return out;
  }
  // Makes `n` calls to b; returns how many failed (status != 200 or no answer).
  int CallB(int n, std::string_view app_id = "b") {
    int failed = 0;
    for (int k = 0; k < n; ++k) {
      auto r = Invoke(a_.ports.http, "POST", app_id, "echo", "x");
      if (!r.ok() || r->status() != 200 || r->body != "x") {
        ++failed;
        std::cerr << "call " << k << " failed: " << (r.ok() ? absl::StrCat(r->status(), " ", r->body) : r.status().ToString())
                  << "\n";
      }
    }
    return failed;
  }
  // Calls each callee served during `n` calls, and the count of failed calls.
  std::pair<std::array<int, kCallees>, int> Measure(int n) {
    const auto before = ServedAll();
    const int failed = CallB(n);
    auto after = ServedAll();
    for (int i = 0; i < kCallees; ++i) after[i] -= before[i];
    return {after, failed};
  }
  int East(const std::array<int, kCallees>& s) { return s[0] + s[1]; }
  int West(const std::array<int, kCallees>& s) { return s[2] + s[3]; }

  // SIGKILLs callee sidecars `which` and waits (bounded) until a has dropped its connections to
  // them, so the next calls meet refused connects rather than a dying connection.
  void KillCallees(std::initializer_list<int> which) {
    for (int i : which) {
      b_[i].process->Signal(SIGKILL);
      ASSERT_TRUE(b_[i].process->WaitExit(10s).has_value());
    }
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline && ReadMetric(a_.ports.metrics, "ringside_peer_connections").value_or(-1) != 0) {
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(ReadMetric(a_.ports.metrics, "ringside_peer_connections").value_or(-1), 0)
        << "a still holds connections to the killed callees";
  }
  double AMetric(std::string_view name) { return ReadMetric(a_.ports.metrics, name).value_or(-1); }

  TempDir dir_;
  std::array<std::unique_ptr<ChildProcess>, kCallees> apps_;
  std::array<uint16_t, kCallees> app_ports_{};
  std::array<Sidecar, kCallees> b_;
  Sidecar a_;
};

TEST_F(ClusterStrategyTest, LocalOnlyNeverLeavesTheCluster) {
  // c has only a west instance: local-only refuses it with Dapr's error naming the strategy.
  ASSERT_NO_FATAL_FAILURE(StartCaller("local-only", Entry(2, "c")));
  const auto [served, failed] = Measure(kCalls);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(East(served), kCalls);
  EXPECT_EQ(West(served), 0);
  EXPECT_GT(served[0], 0);
  EXPECT_GT(served[1], 0);
  EXPECT_EQ(AMetric("ringside_cluster_picks_local_total"), kCalls);
  EXPECT_EQ(AMetric("ringside_cluster_picks_external_total"), 0);
  const int west_before = Served(2);
  auto r = Invoke(a_.ports.http, "POST", "c", "echo", "x");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;
  EXPECT_EQ(JsonStringField(r->body, "errorCode"), "ERR_DIRECT_INVOKE") << r->body;
  EXPECT_EQ(JsonStringField(r->body, "message"),
            "failed to invoke, id: c, err: no usable instance of app id c in the local cluster \"east\" "
            "(cluster strategy local-only)")
      << r->body;
  EXPECT_EQ(Served(2), west_before) << "the refused call reached west";
}

TEST_F(ClusterStrategyTest, ExternalOnlyNeverStaysInTheCluster) {
  ASSERT_NO_FATAL_FAILURE(StartCaller("external-only"));
  const auto [served, failed] = Measure(kCalls);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(West(served), kCalls);
  EXPECT_EQ(East(served), 0);
  EXPECT_GT(served[2], 0);
  EXPECT_GT(served[3], 0);
  EXPECT_EQ(AMetric("ringside_cluster_picks_external_total"), kCalls);
}

TEST_F(ClusterStrategyTest, LocalFirstStaysLocalUntilTheLocalOnesDieThenMovesWithoutFailures) {
  ASSERT_NO_FATAL_FAILURE(StartCaller("local-first"));
  auto [served, failed] = Measure(kCalls);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(East(served), kCalls);
  EXPECT_EQ(West(served), 0);
  ASSERT_NO_FATAL_FAILURE(KillCallees({0, 1}));
  const auto t0 = Clock::now();
  std::tie(served, failed) = Measure(kCalls);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  std::cout << "local-first after killing east: " << kCalls << " calls in " << ms << " ms, "
            << AMetric("ringside_peer_retries_total") << " retries, " << failed << " failed\n";
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(West(served), kCalls);
}

TEST_F(ClusterStrategyTest, ExternalFirstStaysExternalUntilTheExternalOnesDieThenMovesWithoutFailures) {
  ASSERT_NO_FATAL_FAILURE(StartCaller("external-first"));
  auto [served, failed] = Measure(kCalls);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(West(served), kCalls);
  EXPECT_EQ(East(served), 0);
  ASSERT_NO_FATAL_FAILURE(KillCallees({2, 3}));
  const auto t0 = Clock::now();
  std::tie(served, failed) = Measure(kCalls);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  std::cout << "external-first after killing west: " << kCalls << " calls in " << ms << " ms, "
            << AMetric("ringside_peer_retries_total") << " retries, " << failed << " failed\n";
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(East(served), kCalls);
  EXPECT_EQ(AMetric("ringside_cluster_picks_local_total"), kCalls);
}

TEST_F(ClusterStrategyTest, ACallTheLocalPeerMayHaveDeliveredIsNotReplayedInTheOtherCluster) {
  // b: callee 0 (east) and callee 2 (west), local-first: the call goes to callee 0.
  ASSERT_NO_FATAL_FAILURE(StartCallerWith("      cluster: east\n      strategy: local-first\n", Entry(0) + Entry(2)));
  ASSERT_EQ(CallB(1), 0);
  const int west_before = Served(2);
  const double app_calls_before = ReadMetric(b_[0].ports.metrics, "ringside_app_calls_total").value_or(-1);
  auto slow = std::async(std::launch::async, [&] { return Invoke(a_.ports.http, "POST", "b", "sleep/3000", "x", {}, 20s); });
  // The call is at callee 0's app: kill callee 0's sidecar under it.
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline &&
         ReadMetric(b_[0].ports.metrics, "ringside_app_calls_total").value_or(-1) <= app_calls_before) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GT(ReadMetric(b_[0].ports.metrics, "ringside_app_calls_total").value_or(-1), app_calls_before);
  b_[0].process->Signal(SIGKILL);
  auto r = slow.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;  // failed, not answered by west
  EXPECT_EQ(Served(2), west_before) << "the possibly delivered call was replayed in west";
  // Once a has dropped the dead connection, the next call (a new one) moves to west. (Sent
  // before that, it can go out on the dying connection and fail as "connection closed".)
  const auto closed_by = Clock::now() + 10s;
  while (Clock::now() < closed_by && AMetric("ringside_peer_connections") != 0) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(AMetric("ringside_peer_connections"), 0);
  EXPECT_EQ(CallB(1), 0);
  EXPECT_EQ(Served(2), west_before + 1);
}

TEST_F(ClusterStrategyTest, AStrategyThatDoesNotExistExits2) {
  const std::string config = WriteConfig("      cluster: east\n      strategy: nearest\n", Entry(0));
  auto s = ChildProcess::Spawn(BinPath("ringsided"),
                               {"--app-id", "x", "--shards", "1", "--config", config, "--dapr-http-port",
                                absl::StrCat(PickFreePort()), "--metrics-port", absl::StrCat(PickFreePort())},
                               {absl::StrCat("RINGSIDE_NR_SQLITE=", dir_.File("x.db"))}, dir_.File("x.log"));
  ASSERT_TRUE(s.ok()) << s.status();
  auto code = (*s)->WaitExit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE((*s)->Log().find("spec.ringside.multiCluster.strategy"), std::string::npos) << (*s)->Log();
}

}  // namespace
}  // namespace ringside::e2e
