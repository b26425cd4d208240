// Issue 9, "Tests that must exist": three clusters of two hosts in network namespaces
// (three_clusters.h), each host with a ringsided and an echo app answering with its host and
// cluster, east and west on etcd, south on SQLite, a ringside-sync per cluster peered with the
// other two. Where calls go is checked by which app instances answered. Failover and
// propagation figures are printed as "[ MEASURE  ]" lines; the only timing bounds asserted are
// the ones the issue states (within one registry TTL, within one sync TTL), with slack.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/multicluster/three_clusters.h"

namespace ringside::multicluster_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Metrics of ringside-sync (docs/ringside-sync.md) and of the sidecar's subscriber
// (docs/resolvers/external.md).
constexpr char kSyncInstancesMetric[] = "ringside_sync_instances";
constexpr char kSidecarExternalInstancesMetric[] = "ringside_external_instances";

long long Ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// Starts the lab or fails the test with the reason (never skips: CI runs as root).
#define START_LAB(lab, ...)                                  \
  do {                                                       \
    const absl::Status started = (lab).Start(__VA_ARGS__);   \
    ASSERT_TRUE(started.ok()) << started;                    \
  } while (0)

// Without synchronizers every cluster is on its own: each caller reaches both of its own
// cluster's `b` instances and nothing else. Checks the lab itself: routing inside a cluster,
// etcd across two hosts, one SQLite file shared by two hosts, registered host addresses.
TEST(MultiCluster, WithoutSynchronizersEachClusterServesItself) {
  ThreeClusters lab;
  START_LAB(lab, {.synchronizers = false});
  for (const std::string& cluster : LabClusters()) {
    const CallTally t = lab.Call(lab.caller(cluster), 40);
    EXPECT_EQ(t.failures, 0) << cluster << ": " << t.Describe();
    EXPECT_EQ(t.answered_in(cluster), 40) << cluster << ": " << t.Describe();
    for (int host = 1; host <= 2; ++host)
      EXPECT_GT(t.answered_by.count(AppName(cluster, host)), 0u) << cluster << ": " << t.Describe();
  }
  if (HasFailure()) ADD_FAILURE() << lab.Logs();
}

// The five strategies, each on its own caller in east, verified by who answered.
TEST(MultiCluster, EachStrategySendsCallsWhereItSays) {
  ThreeClusters lab;
  START_LAB(lab, {.callers = {{"east", "a", "local-first"},
                              {"east", "a-external-first", "external-first"},
                              {"east", "a-local-only", "local-only"},
                              {"east", "a-external-only", "external-only"},
                              {"east", "a-broadcast", "broadcast"}}});
  constexpr int kCalls = 60;
  // South's registry is SQLite, read by its synchronizer once a second: before counting, wait
  // (bounded) until every caller that leaves the cluster has the whole external table. Each
  // caller has its own subscription, and each publishes what it receives to its shards a moment
  // later, so one caller reaching west and south says nothing about the others: each is warmed
  // up by calls until its calls show the four external instances (the broadcast caller: until
  // its count header says six).
  for (const char* external : {"a-external-first", "a-external-only"}) {
    CallTally w;
    const auto warm = WaitUntil(
        [&] {
          w = lab.Call(lab.caller("east", external), 20);
          return w.failures == 0 && w.answered_in("east") == 0 && w.answered_by.size() == 4u;
        },
        20s);
    EXPECT_TRUE(warm.has_value()) << external << " never reached the four external instances: " << w.Describe();
  }
  {
    auto served_sum = [&] {
      int sum = 0;
      for (const std::string& c : LabClusters())
        for (int h = 1; h <= 2; ++h) sum += lab.AppServed(c, h);
      return sum;
    };
    const int served_before_warm_up = served_sum();
    int legs = 0;  // instances the warm-up broadcasts went to, by their count headers
    CallTally w;
    const auto warm = WaitUntil(
        [&] {
          w = lab.Call(lab.caller("east", "a-broadcast"), 1);
          int n = 0;
          if (absl::SimpleAtoi(w.headers["ringside-broadcast-instances"], &n)) legs += n;
          return w.failures == 0 && n == 6;
        },
        20s);
    EXPECT_TRUE(warm.has_value()) << "a-broadcast never broadcast to six instances: " << w.Describe() << " header "
                                  << w.headers["ringside-broadcast-instances"];
    // The warm-up's trailing legs land before the counts below are taken (bounded).
    WaitUntil([&] { return served_sum() - served_before_warm_up >= legs; }, 5s);
  }
  for (const char* local : {"a", "a-local-only"}) {
    const CallTally t = lab.Call(lab.caller("east", local), kCalls);
    EXPECT_EQ(t.failures, 0) << local << ": " << t.Describe();
    EXPECT_EQ(t.answered_in("east"), kCalls) << local << " left the cluster: " << t.Describe();
    EXPECT_EQ(t.answered_by.size(), 2u) << local << " should spread over east-h1 and east-h2: " << t.Describe();
    std::printf("[ MEASURE  ] %s from east: %s\n", local, t.Describe().c_str());
  }
  for (const char* external : {"a-external-first", "a-external-only"}) {
    const CallTally t = lab.Call(lab.caller("east", external), kCalls);
    EXPECT_EQ(t.failures, 0) << external << ": " << t.Describe();
    EXPECT_EQ(t.answered_in("east"), 0) << external << " stayed in the cluster: " << t.Describe();
    EXPECT_EQ(t.answered_in("west") + t.answered_in("south"), kCalls) << external << ": " << t.Describe();
    EXPECT_EQ(t.answered_by.size(), 4u) << external << " should spread over the four external instances: "
                                        << t.Describe();
    std::printf("[ MEASURE  ] %s from east: %s\n", external, t.Describe().c_str());
  }

  // Broadcast: one answer per call, and every one of the six apps received every call.
  constexpr int kBroadcasts = 20;
  std::vector<int> before;
  for (const std::string& c : LabClusters())
    for (int h = 1; h <= 2; ++h) before.push_back(lab.AppServed(c, h));
  CallTally t = lab.Call(lab.caller("east", "a-broadcast"), kBroadcasts);
  EXPECT_EQ(t.failures, 0) << t.Describe();
  EXPECT_EQ(t.timeline.size(), static_cast<size_t>(kBroadcasts));
  EXPECT_EQ(t.headers["ringside-broadcast-instances"], "6") << "the count header of the last broadcast";
  std::printf("[ MEASURE  ] broadcast from east: %s (the caller sees whichever answered first)\n",
              t.Describe().c_str());
  // The other five answers of each call may still be on their way when the caller has its own.
  int index = 0;
  for (const std::string& c : LabClusters()) {
    for (int h = 1; h <= 2; ++h, ++index) {
      const int want = before[index] + kBroadcasts;
      WaitUntil([&] { return lab.AppServed(c, h) >= want; }, 5s);
      EXPECT_EQ(lab.AppServed(c, h), want) << AppName(c, h) << " did not receive every broadcast";
    }
  }
  if (HasFailure()) ADD_FAILURE() << lab.Logs();
}

// A sidecar that registers in west becomes callable from east through the synchronizers.
TEST(MultiCluster, RegistrationInOneClusterIsVisibleInAnother) {
  ThreeClusters lab;
  START_LAB(lab, {});
  const Clock::time_point start = Clock::now();
  const absl::Status extra = lab.StartExtraSidecar("west", 2, "c");
  ASSERT_TRUE(extra.ok()) << extra;
  const Clock::time_point registered = Clock::now();  // healthy = registered in west's etcd
  RunningSidecar& caller = lab.caller("east");
  CallTally last;
  const auto visible = WaitUntil(
      [&] {
        last = lab.Call(caller, 1, "whoami", "c");
        return last.answered_by.count("west-h2") > 0;
      },
      15s);
  ASSERT_TRUE(visible.has_value()) << "c (registered in west) never answered a call from east; last: "
                                   << last.Describe() << "\n" << lab.Logs();
  std::printf("[ MEASURE  ] registration in west -> first answered call from east: %lld ms after the sidecar "
              "was healthy (%lld ms after its start; calls every 20 ms, a miss is cached for 1 s)\n",
              Ms(Clock::now() - registered), Ms(Clock::now() - start));
}

// Every `b` of the caller's own cluster dies: local-first calls move to the other clusters at
// once (their connects fail, so the retry goes elsewhere) and stay there once the registry has
// dropped the dead instances (one etcd lease TTL).
TEST(MultiCluster, LocalFirstMovesToOtherClustersWhenEveryLocalBIsKilled) {
  ThreeClusters lab;
  START_LAB(lab, {});
  RunningSidecar& caller = lab.caller("east");
  const CallTally warm = lab.Call(caller, 20);
  ASSERT_EQ(warm.answered_in("east"), 20) << warm.Describe();
  ASSERT_EQ(lab.EtcdRegistrations("east", "b"), 2);

  std::atomic<bool> stop{false};
  CallTally during;
  std::thread load([&] { during = lab.CallUntil(caller, stop); });
  std::this_thread::sleep_for(300ms);
  const Clock::time_point killed = Clock::now();
  lab.KillB("east", 1);
  lab.KillB("east", 2);
  const auto dropped = WaitUntil([&] { return lab.EtcdRegistrations("east", "b") == 0; },
                                 std::chrono::seconds(kEtcdLeaseTtlSeconds + 3));
  const Clock::time_point registry_done = Clock::now();
  std::this_thread::sleep_for(500ms);  // calls on the table without them
  stop = true;
  load.join();

  std::optional<Clock::duration> first_external;
  int after_kill = 0, external_after_kill = 0, after_registry = 0, external_after_registry = 0;
  for (const auto& [at, who] : during.timeline) {
    if (at < killed) continue;
    ++after_kill;
    const bool external = !who.empty() && who.rfind("east-", 0) != 0;
    external_after_kill += external;
    if (external && !first_external) first_external = at - killed;
    if (at > registry_done) {
      ++after_registry;
      external_after_registry += external;
    }
  }
  EXPECT_TRUE(dropped.has_value()) << "east's etcd still lists the killed b instances "
                                   << kEtcdLeaseTtlSeconds + 3 << " s after the kill";
  // A call already written to a b when it died may have reached its app: it fails (UNAVAILABLE)
  // and is never replayed elsewhere. That is at most one per killed connection (the call in
  // flight, or one sent before the caller read the reset): 2 b's, one sequential caller.
  // Every call after the first that moved must succeed: connects that fail move at once.
  EXPECT_LE(during.failures, 2) << during.Describe();
  for (const std::string& f : during.failure_samples)
    EXPECT_TRUE(absl::StrContains(f, "code = Unavailable")) << "a failure other than a call cut off by the kill: " << f;
  ASSERT_TRUE(first_external.has_value()) << "no call moved to another cluster: " << during.Describe() << "\n"
                                          << lab.Logs();
  int failed_after_move = 0;
  for (const auto& [at, who] : during.timeline) failed_after_move += at > killed + *first_external && who.empty();
  EXPECT_EQ(failed_after_move, 0) << "calls failed after the caller had moved: " << during.Describe();
  EXPECT_GT(after_registry, 0);
  EXPECT_EQ(external_after_registry, after_registry) << during.Describe();
  std::printf("[ MEASURE  ] local-first failover (every east b SIGKILLed): first call answered by another cluster "
              "%lld ms after the kill; %d of %d calls after the kill answered externally, %d failed; east's etcd "
              "dropped the dead registrations after %lld ms (leaseTTL %d s)\n",
              Ms(*first_external), external_after_kill, after_kill, during.failures,
              dropped ? static_cast<long long>(dropped->count()) : -1LL, kEtcdLeaseTtlSeconds);
  std::printf("[ MEASURE  ] %s\n", during.Describe().c_str());
  if (HasFailure()) ADD_FAILURE() << lab.Logs();
}

// A whole cluster dies (hosts and synchronizer): an external-first caller in east stops
// reaching it — calls move at once (connects fail) and the synchronizer drops the cluster's
// instances after the export TTL; the subscriber's table follows.
TEST(MultiCluster, ExternalFirstStopsReachingADeadClusterWithinOneSyncTtl) {
  ThreeClusters lab;
  START_LAB(lab, {.callers = {{"east", "a-external-first", "external-first"}}});
  RunningSidecar& caller = lab.caller("east", "a-external-first");
  // South's registry is SQLite, read by its synchronizer once a second: wait (bounded) until
  // the caller's calls reach both other clusters.
  CallTally warm;
  for (int round = 0; round < 20; ++round) {
    warm = lab.Call(caller, 40);
    if (warm.failures > 0 || (warm.answered_in("west") > 0 && warm.answered_in("south") > 0)) break;
    std::this_thread::sleep_for(250ms);
  }
  ASSERT_EQ(warm.failures, 0) << warm.Describe();
  ASSERT_GT(warm.answered_in("west"), 0) << warm.Describe();
  ASSERT_GT(warm.answered_in("south"), 0) << warm.Describe();

  std::atomic<bool> stop{false};
  CallTally during;
  std::thread load([&] { during = lab.CallUntil(caller, stop); });
  std::this_thread::sleep_for(300ms);
  const Clock::time_point killed = Clock::now();
  lab.KillCluster("west");
  // East's synchronizer forgets west once the export TTL has passed since west's stream ended.
  const auto forgotten = WaitUntil(
      [&] { return lab.SyncMetric("east", kSyncInstancesMetric, "cluster=\"west\"").value_or(1) == 0; },
      std::chrono::milliseconds(kSyncExportTtlMs + 3000));
  // ...and the caller's table holds south's two instances only.
  const auto caller_forgot = WaitUntil(
      [&] { return lab.SidecarMetric(caller, kSidecarExternalInstancesMetric).value_or(-1) == 2; },
      std::chrono::milliseconds(kSyncExportTtlMs + 3000));
  const Clock::duration caller_forgot_after = Clock::now() - killed;
  std::this_thread::sleep_for(300ms);
  stop = true;
  load.join();

  int west_after_kill = 0, after_kill = 0;
  for (const auto& [at, who] : during.timeline) {
    if (at < killed + 100ms) continue;  // a call answered just before the kill
    ++after_kill;
    west_after_kill += who.rfind("west-", 0) == 0;
  }
  EXPECT_TRUE(forgotten.has_value()) << "east's synchronizer still lists west " << kSyncExportTtlMs + 3000
                                     << " ms after west died";
  EXPECT_TRUE(caller_forgot.has_value()) << "the caller's table still holds west's instances";
  EXPECT_EQ(west_after_kill, 0) << during.Describe();
  // As in the local-first test: a call written to a west sidecar as it died may have reached
  // its app and fails (UNAVAILABLE) rather than being replayed; at most one per west instance.
  // Every other call moves at once (connects to west fail; south answers).
  EXPECT_LE(during.failures, 2) << during.Describe();
  for (const std::string& f : during.failure_samples)
    EXPECT_TRUE(absl::StrContains(f, "code = Unavailable")) << "a failure other than a call cut off by the kill: " << f;
  EXPECT_GT(after_kill, 0);
  std::printf("[ MEASURE  ] whole cluster west killed: east's synchronizer dropped it after %lld ms, the "
              "external-first caller's table after %lld ms (exportTtl %d ms, heartbeat %d ms); %d calls after the "
              "kill, %d failed, %d answered by west\n",
              forgotten ? static_cast<long long>(forgotten->count()) : -1LL,
              caller_forgot ? Ms(caller_forgot_after) : -1LL, kSyncExportTtlMs,
              kSyncHeartbeatMs, after_kill, during.failures, west_after_kill);
  if (HasFailure()) ADD_FAILURE() << lab.Logs();
}

// Both the caller's own synchronizer and a peer's are restarted while an external-only caller
// keeps calling: sidecars keep their last external table, importers keep a peer's instances for
// the export TTL, so no call fails and calls keep reaching both other clusters.
TEST(MultiCluster, SynchronizerRestartUnderLoadFailsNoCall) {
  ThreeClusters lab;
  START_LAB(lab, {.callers = {{"east", "a-external-only", "external-only"}}});
  RunningSidecar& caller = lab.caller("east", "a-external-only");
  std::atomic<bool> stop{false};
  CallTally during;
  std::thread load([&] { during = lab.CallUntil(caller, stop); });
  std::this_thread::sleep_for(500ms);
  const Clock::time_point restart_east = Clock::now();
  const absl::Status east = lab.RestartSync("east");
  std::this_thread::sleep_for(1s);
  const absl::Status west = lab.RestartSync("west");
  const Clock::time_point restarted = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(kSyncExportTtlMs + 500));  // past any TTL
  stop = true;
  load.join();
  ASSERT_TRUE(east.ok()) << east;
  ASSERT_TRUE(west.ok()) << west;

  int during_restarts = 0, west_after = 0, south_after = 0;
  for (const auto& [at, who] : during.timeline) {
    if (at >= restart_east) ++during_restarts;
    if (at > restarted + std::chrono::milliseconds(kSyncExportTtlMs)) {
      west_after += who.rfind("west-", 0) == 0;
      south_after += who.rfind("south-", 0) == 0;
    }
  }
  EXPECT_EQ(during.failures, 0) << during.Describe() << "\n" << lab.Logs();
  EXPECT_EQ(during.answered_in("east"), 0) << during.Describe();
  EXPECT_GT(west_after, 0) << "west's instances were lost after its synchronizer restarted: " << during.Describe();
  EXPECT_GT(south_after, 0) << during.Describe();
  std::printf("[ MEASURE  ] synchronizers of east and west restarted under load: %d calls from the first restart "
              "on, %s\n",
              during_restarts, during.Describe().c_str());
}

}  // namespace
}  // namespace ringside::multicluster_test
