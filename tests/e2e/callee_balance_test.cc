// Callee shard balance (issue 11): with 2 shards on both sidecars, the caller's shards each
// open their own connection to the callee, and the callee hands every accepted internal-port
// connection to the shard with the fewest (shard::AcceptBalancer over IORING_OP_MSG_RING). So
// both callee shards serve calls. Before, the kernel's SO_REUSEPORT hash put both connections
// on one callee shard in about half the runs, and the other served nothing.
//
// A caller with fewer shards than the callee: the callee's SETTINGS name its shard count
// (http2::kRingsideShardsSetting), so the caller's shard opens one connection per callee shard
// and takes them in turn (upstream/pool_policy.h, Spread). The bound: busiest / quietest
// callee shard <= 1.3.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <vector>

#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/topology.h"

namespace ringside::e2e {
namespace {

TEST(CalleeBalanceTest, BothCalleeShardsServeCallsWithTwoShardsOnEachSidecar) {
  Topology topology;
  const absl::Status started = topology.Start({.shards = "2"});
  ASSERT_TRUE(started.ok()) << started;
  // 16 client connections: the caller's two shards both get some (all on one: p = 2^-15), so
  // each opens its own connection to b.
  ASSERT_EQ(DriveEchoInvocations(topology.a.ports.http, 4000, 16, /*body_step=*/64), 0) << topology.Logs();
  const std::vector<double> served = ReadMetricPerShard(topology.b.ports.metrics, "ringside_calllocal_served_total", 2);
  ASSERT_GE(served[0], 0) << "b's /metrics has no ringside_calllocal_served_total for shard 0";
  ASSERT_GE(served[1], 0) << "b's /metrics has no ringside_calllocal_served_total for shard 1";
  EXPECT_GE(served[0] + served[1], 4000) << "the calls did not reach b";
  EXPECT_GT(served[0], 0) << "callee shard 0 served no call (shard 1: " << served[1] << ")";
  EXPECT_GT(served[1], 0) << "callee shard 1 served no call (shard 0: " << served[0] << ")";
  std::cerr << "callee shards served " << served[0] << " / " << served[1] << "\n";
  if (HasFailure()) std::cerr << topology.Logs();
}

// busiest / quietest of b's per-shard CallLocal counts (0 when a shard served nothing).
double Balance(const std::vector<double>& served) {
  const double lo = std::min(served[0], served[1]);
  return lo > 0 ? std::max(served[0], served[1]) / lo : 0;
}

TEST(CalleeBalanceTest, ACallerWithOneShardSpreadsItsCallsOverTheCalleesTwoShards) {
  Topology topology;
  const absl::Status started = topology.Start({.shards = "2", .caller_shards = "1"});
  ASSERT_TRUE(started.ok()) << started;
  const std::vector<double> before =
      ReadMetricPerShard(topology.b.ports.metrics, "ringside_calllocal_served_total", 2);
  ASSERT_GE(before[0], 0) << "b's /metrics has no ringside_calllocal_served_total for shard 0";
  ASSERT_GE(before[1], 0) << "b's /metrics has no ringside_calllocal_served_total for shard 1";
  // One call at a time over one client connection: the case a least-loaded pick cannot spread.
  ASSERT_EQ(DriveEchoInvocations(topology.a.ports.http, 2000, 1, /*body_step=*/64), 0) << topology.Logs();
  std::vector<double> served =
      ReadMetricPerShard(topology.b.ports.metrics, "ringside_calllocal_served_total", 2);
  served[0] -= before[0];
  served[1] -= before[1];
  EXPECT_EQ(served[0] + served[1], 2000) << "every call reaches b exactly once";
  EXPECT_GT(Balance(served), 0) << "one callee shard served nothing: " << served[0] << " / " << served[1];
  EXPECT_LE(Balance(served), 1.3) << "callee shards served " << served[0] << " / " << served[1];
  // And under concurrency (8 client connections, all on a's one shard).
  const std::vector<double> mid =
      ReadMetricPerShard(topology.b.ports.metrics, "ringside_calllocal_served_total", 2);
  ASSERT_EQ(DriveEchoInvocations(topology.a.ports.http, 4000, 8, /*body_step=*/64), 0) << topology.Logs();
  std::vector<double> loaded =
      ReadMetricPerShard(topology.b.ports.metrics, "ringside_calllocal_served_total", 2);
  loaded[0] -= mid[0];
  loaded[1] -= mid[1];
  EXPECT_EQ(loaded[0] + loaded[1], 4000);
  EXPECT_GT(Balance(loaded), 0) << "one callee shard served nothing: " << loaded[0] << " / " << loaded[1];
  EXPECT_LE(Balance(loaded), 1.3) << "callee shards served " << loaded[0] << " / " << loaded[1];
  std::cerr << "callee shards served " << served[0] << " / " << served[1] << " (1 at a time), "
            << loaded[0] << " / " << loaded[1] << " (8 connections)\n";
  if (HasFailure()) std::cerr << topology.Logs();
}

TEST(CalleeBalanceTest, ProxiedGrpcCallsFromAOneShardCallerSpreadOverTheCalleesTwoShards) {
  GrpcTopology topology;
  const absl::Status started =
      topology.Start({.with_http_app = false, .a_shards = "1", .b_shards = "2"});
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_TRUE(topology.b_status.ok()) << topology.b_status;
  auto stub = testpb::Echo::NewStub(LocalChannel(topology.a.ports.grpc));
  const std::vector<double> before = ReadMetricPerShard(topology.b.ports.metrics, "ringside_app_calls_total", 2);
  ASSERT_GE(before[0], 0) << "b's /metrics has no ringside_app_calls_total for shard 0";
  ASSERT_GE(before[1], 0) << "b's /metrics has no ringside_app_calls_total for shard 1";
  constexpr int kCalls = 1000;
  for (int i = 0; i < kCalls; ++i) {  // one at a time, over one channel
    grpc::ClientContext context;
    PrepareProxyCall(&context, "b");
    testpb::EchoRequest request;
    request.set_seq(i);
    testpb::EchoResponse response;
    const grpc::Status status = stub->Unary(&context, request, &response);
    ASSERT_TRUE(status.ok()) << "call " << i << ": " << Describe(status) << "\n" << topology.Logs();
    ASSERT_EQ(response.seq(), i);
  }
  std::vector<double> served = ReadMetricPerShard(topology.b.ports.metrics, "ringside_app_calls_total", 2);
  served[0] -= before[0];
  served[1] -= before[1];
  EXPECT_EQ(served[0] + served[1], kCalls) << "every proxied call reaches b's app exactly once";
  EXPECT_GT(Balance(served), 0) << "one callee shard served nothing: " << served[0] << " / " << served[1];
  EXPECT_LE(Balance(served), 1.3) << "callee shards served " << served[0] << " / " << served[1];
  std::cerr << "callee shards handed " << served[0] << " / " << served[1] << " proxied calls to the app\n";
  if (HasFailure()) std::cerr << topology.Logs();
}

}  // namespace
}  // namespace ringside::e2e
