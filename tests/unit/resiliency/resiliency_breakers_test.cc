// The circuit breaker table shared by the shards (dataplane/resiliency/circuit_breakers.h):
// gobreaker's state machine (closed → open → half-open → closed/open), its probes, the counting
// interval, stale outcomes, eviction, and many threads at once.
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/resiliency/circuit_breakers.h"

namespace ringside::resiliency {
namespace {

using State = CircuitBreakers::State;
constexpr int64_t kMs = 1'000'000;

BreakerPlan Plan(uint32_t trip, uint32_t max_requests = 1, int64_t timeout_ms = 1000, int64_t interval_ms = 0) {
  BreakerPlan p;
  p.trip_failures = trip;
  p.max_requests = max_requests;
  p.timeout_ns = timeout_ms * kMs;
  p.interval_ns = interval_ms * kMs;
  return p;
}

void Fail(CircuitBreakers& cb, uint64_t key, const BreakerPlan& p, int64_t now) {
  Admission a = cb.admit(key, p, now);
  ASSERT_TRUE(a.allowed);
  cb.report(key, a, false, p, now);
}

TEST(CircuitBreakersTest, OpensAfterTheTripHalfOpensAfterTheTimeoutAndClosesOnSuccess) {
  CircuitBreakers cb(64);
  const uint64_t key = breaker_key("b", "flaky");
  const BreakerPlan p = Plan(3, /*max_requests=*/2);
  int64_t now = 1000 * kMs;
  Fail(cb, key, p, now);
  Fail(cb, key, p, now);
  EXPECT_EQ(cb.state_of(key), State::kClosed);
  Fail(cb, key, p, now);
  EXPECT_EQ(cb.state_of(key), State::kOpen);
  Admission refused = cb.admit(key, p, now + 999 * kMs);
  EXPECT_FALSE(refused.allowed);
  EXPECT_STREQ(refused.refusal, "circuit breaker is open");

  now += 1000 * kMs;
  Admission p1 = cb.admit(key, p, now);
  Admission p2 = cb.admit(key, p, now);
  Admission p3 = cb.admit(key, p, now);
  EXPECT_TRUE(p1.allowed);
  EXPECT_TRUE(p2.allowed);
  EXPECT_FALSE(p3.allowed) << "maxRequests 2 probes";
  EXPECT_STREQ(p3.refusal, "too many requests");
  EXPECT_EQ(cb.state_of(key), State::kHalfOpen);
  cb.report(key, p1, true, p, now);
  EXPECT_EQ(cb.state_of(key), State::kHalfOpen) << "one success of two";
  cb.report(key, p2, true, p, now);
  EXPECT_EQ(cb.state_of(key), State::kClosed);
  EXPECT_TRUE(cb.admit(key, p, now).allowed);
}

TEST(CircuitBreakersTest, AFailedProbeOpensAgainAndReleasedProbesAreGivenBack) {
  CircuitBreakers cb(64);
  const uint64_t key = breaker_key("b", "m");
  const BreakerPlan p = Plan(1);
  int64_t now = 5000 * kMs;
  Fail(cb, key, p, now);
  EXPECT_EQ(cb.state_of(key), State::kOpen);
  now += 1000 * kMs;
  Admission probe = cb.admit(key, p, now);
  ASSERT_TRUE(probe.allowed);
  EXPECT_FALSE(cb.admit(key, p, now).allowed);
  cb.release(key, probe);  // the caller went away: the probe slot is free again
  Admission again = cb.admit(key, p, now);
  ASSERT_TRUE(again.allowed);
  cb.report(key, again, false, p, now);
  EXPECT_EQ(cb.state_of(key), State::kOpen);
  EXPECT_FALSE(cb.admit(key, p, now + 999 * kMs).allowed) << "the open period starts again";
}

TEST(CircuitBreakersTest, SuccessResetsConsecutiveFailuresAndTheIntervalClearsCounts) {
  CircuitBreakers cb(64);
  const uint64_t key = breaker_key("b", "m");
  const BreakerPlan p = Plan(3, 1, 1000, /*interval_ms=*/100);
  int64_t now = 1000 * kMs;
  Fail(cb, key, p, now);
  Fail(cb, key, p, now);
  Admission ok = cb.admit(key, p, now);
  cb.report(key, ok, true, p, now);
  Fail(cb, key, p, now);
  Fail(cb, key, p, now);
  EXPECT_EQ(cb.state_of(key), State::kClosed) << "a success in between resets the count";
  now += 150 * kMs;  // past the counting interval
  Fail(cb, key, p, now);
  Fail(cb, key, p, now);
  EXPECT_EQ(cb.state_of(key), State::kClosed) << "the interval cleared the earlier failures";
  Fail(cb, key, p, now);
  EXPECT_EQ(cb.state_of(key), State::kOpen);
}

TEST(CircuitBreakersTest, OutcomesOfCallsAdmittedBeforeAStateChangeDoNotCount) {
  CircuitBreakers cb(64);
  const uint64_t key = breaker_key("b", "m");
  const BreakerPlan p = Plan(1);
  int64_t now = 1000 * kMs;
  Admission early = cb.admit(key, p, now);  // admitted while closed, answers late
  Fail(cb, key, p, now);
  EXPECT_EQ(cb.state_of(key), State::kOpen);
  now += 1000 * kMs;
  Admission probe = cb.admit(key, p, now);
  ASSERT_TRUE(probe.allowed);
  cb.report(key, early, true, p, now);
  EXPECT_EQ(cb.state_of(key), State::kHalfOpen) << "the late success of a closed-state call is not a probe";
}

TEST(CircuitBreakersTest, KeysAreIndependentAndAFullWindowEvictsTheLeastRecentlyUsed) {
  CircuitBreakers cb(8);  // one probe window: the 9th key evicts
  const BreakerPlan p = Plan(1);
  int64_t now = 1000 * kMs;
  std::vector<uint64_t> keys;
  for (int i = 0; i < 8; ++i) keys.push_back(breaker_key("b", "m" + std::to_string(i)));
  for (int i = 0; i < 8; ++i) {
    now += kMs;
    Fail(cb, keys[i], p, now);
  }
  for (uint64_t k : keys) EXPECT_EQ(cb.state_of(k), State::kOpen);
  now += kMs;
  const uint64_t newcomer = breaker_key("c", "x");
  EXPECT_TRUE(cb.admit(newcomer, p, now).allowed);
  EXPECT_EQ(cb.state_of(keys[0]), State::kClosed) << "the least recently used key was evicted";
  for (int i = 1; i < 8; ++i) EXPECT_EQ(cb.state_of(keys[i]), State::kOpen);
}

TEST(CircuitBreakersTest, ManyThreadsTripItOnceAndAdmitAtMostMaxRequestsProbes) {
  CircuitBreakers cb(4096);
  const uint64_t key = breaker_key("b", "hot");
  const BreakerPlan p = Plan(50, /*max_requests=*/3);
  const int64_t now = 1000 * kMs;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        Admission a = cb.admit(key, p, now);
        if (a.allowed) cb.report(key, a, false, p, now);
        (void)cb.admit(breaker_key("b", std::to_string(i % 100)), p, now);  // other keys share the table
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cb.state_of(key), State::kOpen);
  std::atomic<int> probes{0};
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) probes += cb.admit(key, p, now + 1000 * kMs).allowed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(probes.load(), 3);
}

}  // namespace
}  // namespace ringside::resiliency
