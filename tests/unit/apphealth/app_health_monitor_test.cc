// AppHealthMonitor with a scripted probe (no sockets): transitions, the atomic the shards read,
// one log line per transition, on_change calls; and ControlPlane::set_serving reaching the
// resolver on the control thread, retried when the registry refuses.
#include "controlplane/apphealth/app_health_monitor.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "controlplane/control_plane.h"

namespace ringside::apphealth {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds bound = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

struct Recorder {
  std::mutex mu;
  std::vector<bool> changes;        // on_change arguments, in order
  std::vector<std::string> lines;   // log lines
  std::vector<bool> snapshot_changes() {
    std::lock_guard<std::mutex> l(mu);
    return changes;
  }
  size_t lines_containing(std::string_view s) {
    std::lock_guard<std::mutex> l(mu);
    size_t n = 0;
    for (const auto& line : lines) n += line.find(s) != std::string::npos;
    return n;
  }
};

TEST(AppHealthMonitorTest, FollowsTheProbesWithOneLogLinePerTransition) {
  std::atomic<bool> app_ok{true};
  std::atomic<int> timeouts_seen{0};
  Recorder rec;
  AppHealthMonitor m(
      {.interval = 10ms, .timeout = 5ms, .threshold = 3},
      [&](std::chrono::milliseconds timeout) {
        if (timeout == 5ms) timeouts_seen.fetch_add(1);
        return app_ok.load();
      },
      [&](bool h) {
        std::lock_guard<std::mutex> l(rec.mu);
        rec.changes.push_back(h);
      },
      [&](const std::string& line) {
        std::lock_guard<std::mutex> l(rec.mu);
        rec.lines.push_back(line);
      });
  EXPECT_FALSE(m.healthy()) << "unhealthy until the first successful probe";
  EXPECT_FALSE(m.healthy_flag()->load());
  m.start();
  ASSERT_TRUE(eventually([&] { return m.healthy(); }));
  app_ok = false;
  ASSERT_TRUE(eventually([&] { return !m.healthy(); }));
  EXPECT_GE(m.failures(), 3u);
  const uint64_t probes_when_unhealthy = m.probes();
  ASSERT_TRUE(eventually([&] { return m.probes() >= probes_when_unhealthy + 5; }));  // more failures
  app_ok = true;
  ASSERT_TRUE(eventually([&] { return m.healthy(); }));
  m.stop();
  m.stop();  // idempotent
  EXPECT_EQ(rec.snapshot_changes(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(rec.lines_containing("app entered healthy status"), 2u);
  EXPECT_EQ(rec.lines_containing("app entered unhealthy status: app health check failed 3 times"), 1u);
  EXPECT_EQ(timeouts_seen.load(), static_cast<int>(m.probes())) << "every probe gets the timeout";
}

TEST(AppHealthMonitorTest, StopEndsTheIntervalWait) {
  AppHealthMonitor m({.interval = 1h, .timeout = 1s, .threshold = 1}, [](std::chrono::milliseconds) { return true; },
                     [](bool) {}, [](const std::string&) {});
  m.start();
  m.stop();  // would hang for an hour if the sleep were not interruptible
  EXPECT_EQ(m.probes(), 0u);
}

// A listing resolver that records set_serving and can refuse it.
class ServingResolver final : public resolvers::Resolver {
 public:
  absl::Status start(const resolvers::SelfRegistration&, resolvers::InstanceSink*) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<snapshot::Instance>> list() override { return std::vector<snapshot::Instance>{}; }
  void stop() override {}
  bool namespace_aware() const override { return false; }
  absl::Status set_serving(bool serving) override {
    std::lock_guard<std::mutex> l(mu);
    calls.push_back(serving);
    if (refusals > 0) {
      --refusals;
      return absl::UnavailableError("registry down");
    }
    return absl::OkStatus();
  }
  std::vector<bool> seen() {
    std::lock_guard<std::mutex> l(mu);
    return calls;
  }
  std::mutex mu;
  std::vector<bool> calls;  // every set_serving argument
  int refusals = 0;         // calls to refuse first
};

TEST(ControlPlaneServingTest, SetServingReachesTheResolverAndIsRetriedWhenRefused) {
  auto owned = std::make_unique<ServingResolver>();
  ServingResolver* r = owned.get();
  r->refusals = 1;
  snapshot::SnapshotRegistry registry(1);
  ControlPlane cp(std::move(owned), &registry, {.refresh_interval = 20ms});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  cp.set_serving(true);  // the resolver already serves: nothing to tell
  cp.set_serving(false);
  ASSERT_TRUE(eventually([&] { return r->seen().size() >= 2; }));
  EXPECT_EQ(r->seen(), (std::vector<bool>{false, false})) << "refused once, then applied";
  cp.set_serving(true);
  ASSERT_TRUE(eventually([&] { return r->seen().size() >= 3; }));
  std::this_thread::sleep_for(100ms);  // several more turns: no repeated calls
  EXPECT_EQ(r->seen(), (std::vector<bool>{false, false, true}));
  cp.stop();
}

}  // namespace
}  // namespace ringside::apphealth
