// The cluster-strategy filter keeps the request path allocation-free: ringsided-alloccount as
// caller a in cluster "east" (local-first, static list of two east and two west callees); after
// a warm-up, more invocations must not call the global allocator on a's shard threads.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

constexpr std::string_view kMetric = "ringside_shard_heap_allocations_total";

// `count` invocations of b through `port` (harness.h); the number of failed connections.
int Drive(uint16_t port, int count, int connections) {
  return DriveEchoInvocations(port, count, connections, /*body_step=*/300);
}

TEST(ClusterStrategyAllocTest, LocalFirstPickingDoesNotAllocateOnShardThreads) {
  if (!BinaryExists("ringsided-alloccount")) GTEST_FAIL() << BinPath("ringsided-alloccount") << " is not built";
  TempDir dir;
  std::array<std::unique_ptr<ChildProcess>, 4> apps;
  std::array<Sidecar, 4> callees;
  std::string list;
  for (int i = 0; i < 4; ++i) {
    uint16_t app_port = 0;
    auto app = StartEchoApp(dir, &app_port);
    ASSERT_TRUE(app.ok()) << app.status();
    apps[i] = std::move(*app);
    auto b = StartSidecar({.app_id = "b", .app_port = app_port, .nr_db = dir.File(absl::StrCat("b", i, ".db"))}, dir);
    ASSERT_TRUE(b.ok()) << b.status();
    callees[i] = std::move(*b);
    list += absl::StrCat("        - {appId: b, address: \"127.0.0.1:", callees[i].ports.internal, "\", cluster: ",
                         i < 2 ? "east" : "west", "}\n");
  }
  const std::string config = dir.File("a.yaml");
  std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: a}\n"
                           "spec:\n  nameResolution:\n    component: static\n    configuration:\n      apps:\n"
                        << list << "  ringside:\n    multiCluster:\n      cluster: east\n      strategy: local-first\n";
  auto a = StartSidecar({.binary = "ringsided-alloccount", .app_id = "a", .nr_db = dir.File("a.db"),
                         .extra_args = {"--config", config}},
                        dir);
  ASSERT_TRUE(a.ok()) << a.status();
  // Warm-up at four times the measured concurrency (pools grow to their high-water mark).
  EXPECT_EQ(Drive(a->ports.http, 2000, 16), 0);
  EXPECT_EQ(Drive(a->ports.http, 2000, 16), 0);
  const auto before = ReadMetric(a->ports.metrics, kMetric);
  const auto local_before = ReadMetric(a->ports.metrics, "ringside_cluster_picks_local_total");
  ASSERT_TRUE(before.has_value()) << "metric " << kMetric << " missing on a";
  EXPECT_EQ(Drive(a->ports.http, 2000, 4), 0);
  const auto after = ReadMetric(a->ports.metrics, kMetric);
  const auto local_after = ReadMetric(a->ports.metrics, "ringside_cluster_picks_local_total");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after - *before, 0) << "caller a allocated on a shard thread during 2000 local-first calls";
  EXPECT_EQ(*local_after - *local_before, 2000) << "the calls did not go through local picks";
  EXPECT_EQ(ReadMetric(a->ports.metrics, "ringside_cluster_picks_external_total").value_or(-1), 0);
  std::cerr << "allocations after warm-up: " << *before << " -> " << *after << "\n";
  if (HasFailure()) std::cerr << a->process->LogTail() << "\n";
}

}  // namespace
}  // namespace ringside::e2e
