// Load balancing and health-aware picking seen from outside: caller sidecar "a" in front of
// three callee sidecars of app id "b" (each with its own echo app, one shared SQLite registry).
// Which instance answered is read from each callee's ringside_calllocal_served_total.
//   - round robin spreads calls over the three (exactly, with one shard per sidecar);
//   - maglev on a header sends every call with the same value to the same instance;
//   - SIGKILL one callee: calls keep succeeding and, after its first failure, none takes ≥ 1 s
//     (the retry goes at once to another instance; the dead one is ejected / backing off);
//   - restart it on the same ports: calls reach it again.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

constexpr int kCallees = 3;

class LoadBalancingTest : public ::testing::Test {
 protected:
  // Starts the callees and caller a with `load_balancing` (YAML of spec.ringside.loadBalancing).
  void StartAll(const std::string& load_balancing) {
    ASSERT_FALSE(dir_.path().empty());
    nr_db_ = dir_.File("nr.db");
    for (int i = 0; i < kCallees; ++i) {
      auto app = StartEchoApp(dir_, &app_ports_[i]);
      ASSERT_TRUE(app.ok()) << app.status();
      apps_[i] = std::move(*app);
      auto b = StartCallee(i);
      ASSERT_TRUE(b.ok()) << b.status();
      b_[i] = std::move(*b);
    }
    const std::string config = dir_.File("config.yaml");
    std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  ringside:\n"
                          << "    loadBalancing:\n"
                          << load_balancing;
    auto a = StartSidecar({.app_id = "a", .nr_db = nr_db_, .extra_args = {"--config", config}}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s));
    // Every callee visible to a: calls (bounded) until each has served one.
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      bool all = true;
      for (int i = 0; i < kCallees; ++i) all = all && Served(i) > 0;
      if (all) return;
      auto r = Invoke(a_.ports.http, "POST", "b", "echo", "warm");
      ASSERT_TRUE(r.ok()) << r.status();
    }
    FAIL() << "a did not reach all three callees within 15 s";
  }
  void TearDown() override {
    if (!HasFailure()) return;
    if (a_.process) std::cerr << "--- sidecar a:\n" << a_.process->LogTail() << "\n";
    for (int i = 0; i < kCallees; ++i) {
      if (b_[i].process) std::cerr << "--- callee " << i << ":\n" << b_[i].process->LogTail(1500) << "\n";
    }
  }

  absl::StatusOr<Sidecar> StartCallee(int i, SidecarPorts ports = {}) {
    return StartSidecar({.app_id = "b", .app_port = app_ports_[i], .nr_db = nr_db_}, dir_, ports);
  }
  // CallLocal calls callee i has served so far (-1 when it is down).
  int Served(int i) {
    if (!b_[i].process || !b_[i].process->Alive()) return -1;
    std::optional<double> v = ReadMetric(b_[i].ports.metrics, "ringside_calllocal_served_total");
    return v ? static_cast<int>(*v) : -1;
  }
  std::array<int, kCallees> ServedAll() {
    std::array<int, kCallees> out;
    for (int i = 0; i < kCallees; ++i) out[i] = Served(i);
    return out;
  }
  double AMetric(std::string_view name) { return ReadMetric(a_.ports.metrics, name).value_or(-1); }

  TempDir dir_;
  std::string nr_db_;
  std::array<std::unique_ptr<ChildProcess>, kCallees> apps_;
  std::array<uint16_t, kCallees> app_ports_{};
  std::array<Sidecar, kCallees> b_;
  Sidecar a_;
};

TEST_F(LoadBalancingTest, RoundRobinSpreadsCallsOverEveryInstance) {
  StartAll("      policy: roundRobin\n");
  const auto before = ServedAll();
  constexpr int kCalls = 60;
  for (int k = 0; k < kCalls; ++k) {
    auto r = Invoke(a_.ports.http, "POST", "b", "echo", "x");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status(), 200) << r->body;
  }
  const auto after = ServedAll();
  int total = 0;
  for (int i = 0; i < kCallees; ++i) {
    const int got = after[i] - before[i];
    total += got;
    // One shard: one cursor, exact thirds. Two shards: each shard's cursor cycles on its own.
    if (E2eShards() == "1") {
      EXPECT_EQ(got, kCalls / kCallees) << "callee " << i;
    } else {
      EXPECT_GE(got, kCalls / kCallees / 3) << "callee " << i;
    }
  }
  EXPECT_EQ(total, kCalls);
}

TEST_F(LoadBalancingTest, MaglevSendsEachHeaderValueToOneInstance) {
  StartAll("      policy: maglev\n      hashHeader: x-user\n");
  std::map<int, int> owners;  // callee -> users it owns
  for (int u = 0; u < 12; ++u) {
    const std::string user = absl::StrCat("user-", u);
    const auto before = ServedAll();
    for (int k = 0; k < 5; ++k) {
      auto r = Invoke(a_.ports.http, "POST", "b", "echo", "x", {{"X-User", user}});
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->status(), 200) << r->body;
    }
    const auto after = ServedAll();
    int owner = -1;
    for (int i = 0; i < kCallees; ++i) {
      const int got = after[i] - before[i];
      if (got == 0) continue;
      EXPECT_EQ(got, 5) << user << " split over callees";
      owner = i;
    }
    ASSERT_GE(owner, 0);
    ++owners[owner];
  }
  EXPECT_GE(owners.size(), 2u) << "12 users all hashed to one instance";
}

TEST_F(LoadBalancingTest, MaglevHashesGrpcMetadataOfInvokeService) {
  StartAll("      apps:\n        b: {policy: maglev, hashHeader: x-user}\n");
  auto dapr = dapr::proto::runtime::v1::Dapr::NewStub(LocalChannel(a_.ports.grpc));
  std::map<int, int> owners;  // callee -> users it owns
  for (int u = 0; u < 12; ++u) {
    const std::string user = absl::StrCat("user-", u);
    const auto before = ServedAll();
    for (int k = 0; k < 4; ++k) {
      grpc::ClientContext context;
      SetTimeout(&context, 10s);
      context.AddMetadata("x-user", user);
      dapr::proto::runtime::v1::InvokeServiceRequest request;
      request.set_id("b");
      request.mutable_message()->set_method("echo");
      request.mutable_message()->mutable_data()->set_value("x");
      request.mutable_message()->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::POST);
      dapr::proto::common::v1::InvokeResponse response;
      const grpc::Status status = dapr->InvokeService(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
    const auto after = ServedAll();
    int owner = -1;
    for (int i = 0; i < kCallees; ++i) {
      const int got = after[i] - before[i];
      if (got == 0) continue;
      EXPECT_EQ(got, 4) << user << " split over callees";
      owner = i;
    }
    ASSERT_GE(owner, 0);
    ++owners[owner];
  }
  EXPECT_GE(owners.size(), 2u) << "12 users all hashed to one instance";
}

TEST_F(LoadBalancingTest, KilledInstanceCostsNoRetryWaitAndComesBackAfterRestart) {
  StartAll("      outlierDetection: {consecutiveFailures: 1, baseEjectionTime: 1s, maxEjectionTime: 4s}\n");
  const SidecarPorts dead_ports = b_[1].ports;
  b_[1].process->Signal(SIGKILL);
  ASSERT_TRUE(b_[1].process->WaitExit(5s).has_value());
  // Its registry row stays until it expires (5 s): the caller keeps seeing the instance. The
  // first call to it may fail (sent on the pinned connection before a saw it close: the call
  // may have been delivered, so it is not replayed); from then on every call succeeds at once.
  int slow_after_first_failure = 0, failed_after_first_failure = 0, calls = 0;
  bool saw_failure = false;
  const auto until = Clock::now() + 3s;
  while (Clock::now() < until && calls < 50000) {
    const double retries_before = AMetric("ringside_peer_retries_total");
    const auto start = Clock::now();
    auto r = Invoke(a_.ports.http, "POST", "b", "echo", "x");
    const auto took = Clock::now() - start;
    ++calls;
    ASSERT_TRUE(r.ok()) << r.status();
    if (saw_failure) {
      if (took >= 1s) ++slow_after_first_failure;
      if (r->status() != 200 && ++failed_after_first_failure == 1)
        std::cerr << "call " << calls << " failed: " << r->status() << " " << r->body << "\n";
    } else if (r->status() != 200 || AMetric("ringside_peer_retries_total") > retries_before) {
      saw_failure = true;
    }
  }
  EXPECT_TRUE(saw_failure) << "no call went to the killed instance";
  EXPECT_GT(calls, 20);
  std::cerr << calls << " calls in 3 s after the kill, " << AMetric("ringside_lb_ejections_total") << " ejections, "
            << AMetric("ringside_lb_fast_retries_total") << " fast retries\n";
  EXPECT_EQ(failed_after_first_failure, 0) << "of " << calls << " calls";
  EXPECT_EQ(slow_after_first_failure, 0) << "of " << calls << " calls";
  EXPECT_GE(AMetric("ringside_lb_fast_retries_total"), 1);
  EXPECT_GE(AMetric("ringside_lb_ejections_total"), 1);
  EXPECT_GE(AMetric("ringside_lb_skipped_instances_total"), 1);

  // Restart on the same ports: ejection ends (≤ 4 s) and calls reach it again.
  auto back = StartCallee(1, dead_ports);
  ASSERT_TRUE(back.ok()) << back.status();
  b_[1] = std::move(*back);
  const auto deadline = Clock::now() + 20s;
  int served = 0;
  for (int k = 0; k < 5000 && Clock::now() < deadline && served <= 0; ++k) {
    auto r = Invoke(a_.ports.http, "POST", "b", "echo", "x");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200) << r->body;
    served = Served(1);
  }
  EXPECT_GT(served, 0) << "the restarted instance got no call within 20 s";
}

TEST(LoadBalancingConfigTest, BadPolicyExitsTwoNamingThePath) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string config = dir.File("config.yaml");
  std::ofstream(config) << "spec:\n  ringside:\n    loadBalancing:\n      apps:\n        b: {policy: maglev}\n";
  auto p = ChildProcess::Spawn(BinPath("ringsided"), {"--app-id", "x", "--config", config},
                               {"RINGSIDE_NR_SQLITE=" + dir.File("nr.db")}, dir.File("x.log"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->WaitExit(10s), 2);
  EXPECT_NE((*p)->Log().find("spec.ringside.loadBalancing.apps.b.hashHeader: is required by the ringHash and maglev policies"),
            std::string::npos)
      << (*p)->Log();
}

}  // namespace
}  // namespace ringside::e2e
