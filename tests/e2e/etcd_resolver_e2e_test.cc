// Sidecars resolving each other through a real etcd (spec.nameResolution.component: etcd):
// two instances of app b behind their own sidecars and echo apps, and a caller sidecar a.
//
//   client ──HTTP──► a ──► b1 ──► echo app 1
//                      └─► b2 ──► echo app 2        (all registered in etcd under a lease)
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"
#include "tests/unit/controlplane/etcd/etcd_server.h"

namespace ringside::e2e {
namespace {

constexpr char kPrefix[] = "/e2e/instances";
constexpr int kLeaseTtlSeconds = 3;

class EtcdE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = etcd_.Start();
    ASSERT_TRUE(s.ok()) << "cannot run etcd (install etcd-server: scripts/install-deps.sh): " << s;
    config_ = dir_.File("etcd-config.yaml");
    std::ofstream(config_) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: etcd}\n"
                           << "spec:\n  nameResolution:\n    component: etcd\n    configuration:\n"
                           << "      endpoints: [\"" << etcd_.endpoint() << "\"]\n"
                           << "      prefix: " << kPrefix << "\n"
                           << "      leaseTTL: " << kLeaseTtlSeconds << "s\n"
                           << "      maxBackoff: 500ms\n";
    for (int i = 0; i < 2; ++i) {
      auto app = StartEchoApp(dir_, &app_ports_[i]);
      ASSERT_TRUE(app.ok()) << app.status();
      apps_[i] = std::move(*app);
      auto b = StartSidecar({.app_id = "b", .app_port = app_ports_[i], .extra_args = {"--config", config_}}, dir_);
      ASSERT_TRUE(b.ok()) << b.status();
      b_[i] = std::move(*b);
    }
    auto a = StartSidecar({.app_id = "a", .extra_args = {"--config", config_}}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "b", 15s)) << Logs();
  }

  std::string Logs() const {
    std::string out = absl::StrCat("--- etcd log:\n", etcd_.LogTail(), "\n");
    for (const Sidecar* s : {&a_, &b_[0], &b_[1]}) {
      if (s->process) absl::StrAppend(&out, "--- sidecar ", s->app_id, ":", s->ports.http, " log:\n", s->process->LogTail(), "\n");
    }
    return out;
  }

  // The line sidecar a logs when instance b<i> leaves its view.
  std::string LeftLine(int i) const {
    return absl::StrCat(kPrefix, "/default/b/127.0.0.1:", b_[i].ports.internal, " left");
  }
  // Waits (bounded) for `text` in a's log; the moment it was seen, or nullopt.
  std::optional<Clock::time_point> WaitForLogLine(const std::string& text, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (absl::StrContains(a_.process->Log(), text)) return Clock::now();
      std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
  }
  double Served(int i) { return ReadMetric(b_[i].ports.metrics, "ringside_calllocal_served_total").value_or(-1); }
  int InvokeMany(int n) {
    int ok = 0;
    for (int k = 0; k < n; ++k) {
      auto r = Invoke(a_.ports.http, "POST", "b", "echo", absl::StrCat("call ", k));
      if (r.ok() && r->status() == 200) ++ok;
    }
    return ok;
  }

  ringside::testing::EtcdServer etcd_;                  // the registry
  TempDir dir_;                                // logs and the Configuration
  std::string config_;                         // --config of every sidecar
  uint16_t app_ports_[2] = {0, 0};             // echo apps behind b1, b2
  std::unique_ptr<ChildProcess> apps_[2];      // the echo apps
  Sidecar b_[2];                               // two instances of app b
  Sidecar a_;                                  // the caller
};

TEST_F(EtcdE2eTest, KilledSidecarLeavesWhenItsLeaseExpiresAndCallsGoToTheSurvivor) {
  ASSERT_EQ(InvokeMany(40), 40) << Logs();
  EXPECT_GT(Served(0), 0) << "b1 never served: both instances should be in a's table";
  EXPECT_GT(Served(1), 0) << "b2 never served: both instances should be in a's table";

  auto killed_at = Clock::now();
  b_[1].process->Signal(SIGKILL);  // no deregistration: only the lease's expiry removes it
  std::optional<Clock::time_point> left_at = WaitForLogLine(LeftLine(1), std::chrono::seconds(kLeaseTtlSeconds + 20));
  ASSERT_TRUE(left_at.has_value()) << "a never saw the killed instance leave\n" << Logs();
  std::printf("etcd lease-expiry failover (leaseTTL %d s): SIGKILL -> first table without the instance: %lld ms\n",
              kLeaseTtlSeconds,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(*left_at - killed_at).count()));

  double before = Served(0);
  EXPECT_EQ(InvokeMany(30), 30) << Logs();
  EXPECT_EQ(Served(0) - before, 30) << "every call after the failover goes to the surviving instance";
}

TEST_F(EtcdE2eTest, EtcdRestartUnderSteadyLoadFailsNoRequest) {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::string first_failure;
  std::thread load([&] {
    for (int k = 0; k < 100000 && !stop.load(); ++k) {
      auto r = Invoke(a_.ports.http, "POST", "b", "echo", "steady");
      if (r.ok() && r->status() == 200) {
        ok.fetch_add(1);
      } else if (failed.fetch_add(1) == 0) {
        first_failure = r.ok() ? absl::StrCat(r->status(), " ", r->body) : std::string(r.status().message());
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  std::this_thread::sleep_for(1s);
  etcd_.Kill();
  // a reports the outage (once) and keeps its table.
  EXPECT_TRUE(WaitForLogLine("ringside: control plane: name resolution", 15s).has_value()) << Logs();
  std::this_thread::sleep_for(2s);
  int ok_before_restart = ok.load();
  ASSERT_TRUE(etcd_.Start().ok()) << Logs();
  std::this_thread::sleep_for(2s);
  stop.store(true);
  load.join();
  std::printf("steady load across an etcd crash and restart: %d requests ok, %d failed\n", ok.load(), failed.load());
  EXPECT_EQ(failed.load(), 0) << "first failure: " << first_failure << "\n" << Logs();
  EXPECT_GT(ok_before_restart, 50) << "the load did not run";

  // Updates resume after the restart: b2 stops cleanly (revokes its lease) and a sees it leave.
  b_[1].process->Signal(SIGTERM);
  EXPECT_TRUE(WaitForLogLine(LeftLine(1), 15s).has_value()) << "a's watch did not resume after etcd's restart\n" << Logs();
  double before = Served(0);
  EXPECT_EQ(InvokeMany(20), 20) << Logs();
  EXPECT_EQ(Served(0) - before, 20);
  // The survivors' registrations outlived etcd's restart (leases are restored and refreshed).
  std::string keys = etcd_.Etcdctl(absl::StrCat("get --prefix --keys-only ", kPrefix));
  EXPECT_TRUE(absl::StrContains(keys, absl::StrCat("/default/b/127.0.0.1:", b_[0].ports.internal))) << keys;
  EXPECT_TRUE(absl::StrContains(keys, absl::StrCat("/default/a/127.0.0.1:", a_.ports.internal))) << keys;
}

}  // namespace
}  // namespace ringside::e2e
