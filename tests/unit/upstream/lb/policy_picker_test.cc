// PolicyPicker: each policy's distribution over many picks (round robin exact, random and
// least-request within statistical bounds from fixed seeds, weights honoured, hash affinity),
// health-aware picking (dial back-off and ejection skipped, exclusions, panic mode) and outlier
// ejection with recovery on a fake clock.
#include "dataplane/upstream/lb/policy_picker.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "controlplane/snapshot/pool_balancing.h"

namespace ringside::lb {
namespace {

using snapshot::AppLoadBalancing;
using snapshot::Instance;
using snapshot::LbPolicy;
using snapshot::PoolBalancing;

constexpr int64_t kSecond = 1'000'000'000;

std::vector<Instance> instances(int n, std::vector<uint32_t> weights = {}) {
  std::vector<Instance> out;
  for (int i = 0; i < n; ++i) {
    auto inst = snapshot::make_instance("b", "", "10.0.0." + std::to_string(i + 1) + ":50002", "",
                                        weights.empty() ? 1 : weights[i]);
    EXPECT_TRUE(inst.ok());
    out.push_back(*inst);
  }
  return out;
}

// Dial back-off of a chosen set of addresses.
class FakeDial final : public DialState {
 public:
  std::set<uint64_t> backing;  // address keys in back-off
  bool backing_off(const snapshot::SocketAddress& a) const override { return backing.count(a.key()) > 0; }
};

struct Fixture {
  std::vector<Instance> pool;
  PoolBalancing balancing;
  shard::ShardCounters counters;
  PolicyPicker picker{42, &counters};
  FakeDial dial;
  int64_t now = 100 * kSecond;  // the fake clock
  snapshot::OutlierDetection outlier;

  Fixture(int n, AppLoadBalancing config, std::vector<uint32_t> weights = {})
      : pool(instances(n, weights)), balancing(snapshot::build_pool_balancing(pool, config)) {}

  PickRequest request(uint64_t key = 0, std::span<const uint64_t> exclude = {}) {
    return PickRequest{.app_id = "b", .app_namespace = "", .hash_key = key, .exclude = exclude,
                       .balancing = &balancing, .dial = &dial, .now_ns = now};
  }
  size_t pick(uint64_t key = 0, std::span<const uint64_t> exclude = {}) {
    const Instance* i = picker.pick(request(key, exclude), pool);
    EXPECT_NE(i, nullptr);
    return i ? static_cast<size_t>(i - pool.data()) : SIZE_MAX;
  }
  std::vector<int> counts(int picks) {
    std::vector<int> c(pool.size());
    for (int k = 0; k < picks; ++k) ++c[pick()];
    return c;
  }
  void fail(size_t i) { picker.on_call_end(pool[i].id, CallOutcome::kFailure, now, outlier); }
  void succeed(size_t i) { picker.on_call_end(pool[i].id, CallOutcome::kSuccess, now, outlier); }
  uint64_t counter(const std::atomic<uint64_t>& c) const { return c.load(); }
};

// Chi-square-free bound: every count within 5 standard deviations of the expectation.
void expect_near_expected(const std::vector<int>& counts, const std::vector<double>& share, int picks) {
  for (size_t i = 0; i < counts.size(); ++i) {
    const double mean = picks * share[i];
    const double sd = std::sqrt(picks * share[i] * (1 - share[i]));
    EXPECT_NEAR(counts[i], mean, 5 * sd) << "instance " << i;
  }
}

TEST(PolicyPicker, RoundRobinIsExact) {
  Fixture f(4, {});
  std::vector<size_t> order;
  for (int k = 0; k < 8; ++k) order.push_back(f.pick());
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(f.counts(4000), (std::vector<int>{1000, 1000, 1000, 1000}));
}

TEST(PolicyPicker, WeightedRoundRobinIsExactPerCycle) {
  Fixture f(3, {}, {3, 1, 2});
  EXPECT_EQ(f.counts(6000), (std::vector<int>{3000, 1000, 2000}));
}

TEST(PolicyPicker, RandomIsUniformWithinBounds) {
  Fixture f(5, {LbPolicy::kRandom, ""});
  constexpr int kPicks = 50000;
  expect_near_expected(f.counts(kPicks), std::vector<double>(5, 0.2), kPicks);
}

TEST(PolicyPicker, WeightedRandomFollowsWeights) {
  Fixture f(3, {LbPolicy::kRandom, ""}, {1, 2, 5});
  constexpr int kPicks = 80000;
  expect_near_expected(f.counts(kPicks), {1.0 / 8, 2.0 / 8, 5.0 / 8}, kPicks);
}

TEST(PolicyPicker, LeastRequestSpreadsEvenlyWhenCallsEndAtOnce) {
  Fixture f(4, {LbPolicy::kLeastRequest, ""});
  constexpr int kPicks = 40000;
  expect_near_expected(f.counts(kPicks), std::vector<double>(4, 0.25), kPicks);
}

TEST(PolicyPicker, LeastRequestAvoidsBusyInstances) {
  Fixture f(4, {LbPolicy::kLeastRequest, ""});
  // Instance 0 holds 50 calls in flight, the others none: P2C only picks it when both samples
  // are instance 0, which the distinct-second-sample rule rules out.
  for (int k = 0; k < 50; ++k) f.picker.on_call_start(f.pool[0].id);
  EXPECT_EQ(f.picker.outstanding().of(f.pool[0].id), 50u);
  std::vector<int> c = f.counts(3000);
  EXPECT_EQ(c[0], 0);
  // Calls that end bring it back.
  for (int k = 0; k < 50; ++k) f.picker.on_call_end(f.pool[0].id, CallOutcome::kSuccess, f.now, f.outlier);
  EXPECT_EQ(f.picker.outstanding().of(f.pool[0].id), 0u);
  EXPECT_GT(f.counts(3000)[0], 500);
}

TEST(PolicyPicker, LeastRequestBalancesInFlightCalls) {
  // Calls that stay open: P2C keeps the in-flight counts close together.
  Fixture f(5, {LbPolicy::kLeastRequest, ""});
  for (int k = 0; k < 1000; ++k) f.picker.on_call_start(f.pool[f.pick()].id);
  uint32_t lo = UINT32_MAX, hi = 0;
  for (const Instance& i : f.pool) {
    lo = std::min(lo, f.picker.outstanding().of(i.id));
    hi = std::max(hi, f.picker.outstanding().of(i.id));
  }
  EXPECT_LE(hi - lo, 12u) << lo << ".." << hi;
}

class HashPolicy : public ::testing::TestWithParam<LbPolicy> {};

TEST_P(HashPolicy, SameKeySameInstanceAndKeysSpread) {
  Fixture f(5, {GetParam(), "x-user"});
  std::vector<int> per_instance(5);
  for (int u = 0; u < 5000; ++u) {
    const uint64_t key = snapshot::stable_hash("user-" + std::to_string(u));
    const size_t first = f.pick(key);
    for (int again = 0; again < 3; ++again) ASSERT_EQ(f.pick(key), first);
    ++per_instance[first];
  }
  for (int c : per_instance) EXPECT_NEAR(c, 1000, 250);
}

TEST_P(HashPolicy, NoKeyFallsBackToRoundRobin) {
  Fixture f(3, {GetParam(), "x-user"});
  EXPECT_EQ(f.counts(300), (std::vector<int>{100, 100, 100}));
}

TEST_P(HashPolicy, AnExcludedOrEjectedOwnerMovesTheKeyToAConsistentOtherInstance) {
  Fixture f(5, {GetParam(), "x-user"});
  const uint64_t key = snapshot::stable_hash("user-1");
  const size_t owner = f.pick(key);
  const uint64_t ex[] = {f.pool[owner].id};
  const size_t second = f.pick(key, ex);
  EXPECT_NE(second, owner);
  EXPECT_EQ(f.pick(key, ex), second);
  for (int k = 0; k < 3; ++k) f.fail(owner);  // ejected
  EXPECT_EQ(f.pick(key), second);
  f.now += 2 * kSecond;  // ejection over: the key goes home
  EXPECT_EQ(f.pick(key), owner);
}

INSTANTIATE_TEST_SUITE_P(Policies, HashPolicy, ::testing::Values(LbPolicy::kMaglev, LbPolicy::kRingHash),
                         [](const auto& info) { return info.param == LbPolicy::kMaglev ? "Maglev" : "RingHash"; });

TEST(PolicyPicker, InstancesInDialBackOffAreSkipped) {
  Fixture f(3, {});
  f.dial.backing.insert(f.pool[1].addr.key());
  std::vector<int> c = f.counts(300);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[0] + c[2], 300);
  EXPECT_GT(f.counter(f.counters.lb_skipped_instances), 0u);
  EXPECT_EQ(f.counter(f.counters.lb_panic_picks), 0u);
}

TEST(PolicyPicker, ExcludedInstancesAreAvoidedWhileAnotherExists) {
  Fixture f(3, {LbPolicy::kRandom, ""});
  const uint64_t ex[] = {f.pool[0].id, f.pool[2].id};
  for (int k = 0; k < 50; ++k) EXPECT_EQ(f.pick(0, ex), 1u);
  // All excluded: a retry goes back to one of them rather than nowhere.
  const uint64_t all[] = {f.pool[0].id, f.pool[1].id, f.pool[2].id};
  EXPECT_LT(f.pick(0, all), 3u);
}

TEST(OutlierEjection, ConsecutiveFailuresEjectForGrowingIntervalsUntilASuccess) {
  Fixture f(3, {});
  const uint64_t id = f.pool[0].id;
  f.fail(0);
  f.fail(0);
  EXPECT_FALSE(f.picker.ejector().ejected(id, f.now));  // 2 < 3 consecutive failures
  f.succeed(0);                                          // resets the count
  f.fail(0);
  f.fail(0);
  EXPECT_FALSE(f.picker.ejector().ejected(id, f.now));
  f.fail(0);
  EXPECT_TRUE(f.picker.ejector().ejected(id, f.now));
  EXPECT_EQ(f.counter(f.counters.lb_ejections), 1u);
  EXPECT_EQ(f.picker.ejector().ejected_until(id), f.now + kSecond);
  std::vector<int> c = f.counts(100);
  EXPECT_EQ(c[0], 0);  // skipped while ejected
  // Failures of calls already in flight do not extend the ejection.
  f.fail(0);
  EXPECT_EQ(f.picker.ejector().ejected_until(id), f.now + kSecond);

  // Each ejection in a row doubles: 1 s, 2 s, 4 s, ... capped at 30 s.
  const int64_t expected[] = {2, 4, 8, 16, 30, 30};
  for (int64_t seconds : expected) {
    f.now = f.picker.ejector().ejected_until(id);  // recovered: picked again
    EXPECT_FALSE(f.picker.ejector().ejected(id, f.now));
    for (int k = 0; k < 3; ++k) f.fail(0);
    EXPECT_EQ(f.picker.ejector().ejected_until(id), f.now + seconds * kSecond) << seconds;
  }
  // Recovery: after the interval it takes calls again; a success resets the doubling.
  f.now = f.picker.ejector().ejected_until(id);
  EXPECT_GT(f.counts(300)[0], 0);
  f.succeed(0);
  for (int k = 0; k < 3; ++k) f.fail(0);
  EXPECT_EQ(f.picker.ejector().ejected_until(id), f.now + kSecond);
}

TEST(OutlierEjection, ZeroConsecutiveFailuresNeverEjects) {
  Fixture f(2, {});
  f.outlier.consecutive_failures = 0;
  for (int k = 0; k < 20; ++k) f.fail(0);
  EXPECT_FALSE(f.picker.ejector().ejected(f.pool[0].id, f.now));
  EXPECT_EQ(f.picker.ejector().size(), 0u);
}

TEST(OutlierEjection, PanicModeUsesEveryInstanceWhenAllAreEjected) {
  Fixture f(3, {});
  for (size_t i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) f.fail(i);
  }
  EXPECT_EQ(f.counter(f.counters.lb_ejections), 3u);
  EXPECT_EQ(f.counts(300), (std::vector<int>{100, 100, 100}));  // round robin over all of them
  EXPECT_EQ(f.counter(f.counters.lb_panic_picks), 300u);
  // They recover together; 0 and 2 fail again (ejected for 2 s), so 1 alone takes the calls.
  f.now += kSecond;
  for (size_t i : {0, 2}) {
    for (int k = 0; k < 3; ++k) f.fail(i);
  }
  EXPECT_EQ(f.counts(30), (std::vector<int>{0, 30, 0}));
  EXPECT_EQ(f.counter(f.counters.lb_panic_picks), 300u);
}

TEST(OutlierEjection, EjectedAndBackingOffTogetherLeaveTheRest) {
  Fixture f(4, {LbPolicy::kLeastRequest, ""});
  for (int k = 0; k < 3; ++k) f.fail(0);
  f.dial.backing.insert(f.pool[1].addr.key());
  std::vector<int> c = f.counts(2000);
  EXPECT_EQ(c[0], 0);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[2] + c[3], 2000);
}

}  // namespace
}  // namespace ringside::lb
