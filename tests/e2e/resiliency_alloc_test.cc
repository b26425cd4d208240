// Issue 10 (res): the allocation-free request path holds with Resiliency policies configured:
// caller a (ringsided-alloccount) has a timeout, a retry policy and a circuit breaker for b, so
// every call is admitted by the shared breaker table, arms the attempt timer and reports its
// outcome; after a warm-up, no shard thread of a or b calls the global allocator. Some calls
// fail at the app (and are retried) so the failure paths run in the measured phase too.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

constexpr std::string_view kMetric = "ringside_shard_heap_allocations_total";

constexpr char kPolicies[] = R"(apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: alloc}
spec:
  policies:
    timeouts: {t: 10s}
    retries: {r: {policy: constant, duration: 1ms, maxRetries: 2, matching: {httpStatusCodes: "503"}}}
    circuitBreakers: {cb: {trip: consecutiveFailures > 1000, timeout: 1s}}
  targets:
    apps:
      b: {timeout: t, retry: r, circuitBreaker: cb}
)";

TEST(ResiliencyAllocTest, PoliciesOnEveryCallDoNotAllocateOnShardThreads) {
  if (!BinaryExists("ringsided-alloccount")) GTEST_FAIL() << BinPath("ringsided-alloccount") << " is not built";
  TempDir dir;
  const std::string res = dir.File("res");
  ::mkdir(res.c_str(), 0755);
  std::ofstream(res + "/r.yaml") << kPolicies;
  uint16_t app_port = 0;
  auto app = StartEchoApp(dir, &app_port);
  ASSERT_TRUE(app.ok()) << app.status();
  const std::string nr_db = dir.File("nr.db");
  auto b = StartSidecar({.binary = "ringsided-alloccount", .app_id = "b", .app_port = app_port, .nr_db = nr_db}, dir);
  ASSERT_TRUE(b.ok()) << b.status();
  auto a = StartSidecar({.binary = "ringsided-alloccount", .app_id = "a", .nr_db = nr_db, .extra_args = {"--resources-path", res}},
                        dir);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(WaitUntilInvocable(a->ports.http, "b", 15s)) << a->process->LogTail();
  // Failing calls: the echo app answers /status/503 with 503 (retried twice by a's policy).
  auto failing = [&](int n) {
    int seen = 0;
    for (int i = 0; i < n; ++i) {
      auto r = Invoke(a->ports.http, "GET", "b", "status/503", {}, {}, 10s);
      seen += r.ok() && r->status() == 503;
    }
    return seen;
  };
  EXPECT_EQ(DriveEchoInvocations(a->ports.http, 3000, 16, 700), 0);
  EXPECT_EQ(failing(20), 20);
  EXPECT_EQ(DriveEchoInvocations(a->ports.http, 3000, 16, 700), 0);
  EXPECT_EQ(failing(20), 20);
  ASSERT_FALSE(HasFailure()) << a->process->LogTail();
  const auto a_before = ReadMetric(a->ports.metrics, kMetric);
  const auto b_before = ReadMetric(b->ports.metrics, kMetric);
  ASSERT_TRUE(a_before && b_before) << "metric " << kMetric << " missing";
  EXPECT_EQ(DriveEchoInvocations(a->ports.http, 2000, 4, 700), 0);
  EXPECT_EQ(failing(10), 10);
  const auto a_after = ReadMetric(a->ports.metrics, kMetric);
  const auto b_after = ReadMetric(b->ports.metrics, kMetric);
  ASSERT_TRUE(a_after && b_after);
  EXPECT_EQ(*a_after - *a_before, 0) << "caller a allocated on a shard thread with policies configured";
  EXPECT_EQ(*b_after - *b_before, 0) << "callee b allocated on a shard thread";
  std::cerr << "allocations after warm-up: a " << *a_before << " -> " << *a_after << ", b " << *b_before << " -> "
            << *b_after << "\n";
}

}  // namespace
}  // namespace ringside::e2e
