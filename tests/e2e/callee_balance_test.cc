// Callee shard balance (issue 11): with 2 shards on both sidecars, the caller's shards each
// open their own connection to the callee, and the callee hands every accepted internal-port
// connection to the shard with the fewest (shard::AcceptBalancer over IORING_OP_MSG_RING). So
// both callee shards serve calls. Before, the kernel's SO_REUSEPORT hash put both connections
// on one callee shard in about half the runs, and the other served nothing.
#include <gtest/gtest.h>

#include <iostream>
#include <vector>

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

}  // namespace
}  // namespace ringside::e2e
