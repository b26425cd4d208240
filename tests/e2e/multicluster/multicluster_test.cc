// Issue 9, "Tests that must exist": three clusters of two hosts in network namespaces
// (three_clusters.h), each host with a ringsided and an echo app answering with its host and
// cluster, east and west on etcd, south on SQLite, a ringside-sync per cluster peered with the
// other two. Which strategies send calls where is checked by which app instances answered.
// Failover figures are printed as "[ MEASURE  ]" lines (no timing assertions beyond the bounds
// the issue states).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/multicluster/three_clusters.h"

namespace ringside::multicluster_test {
namespace {

using namespace std::chrono_literals;

// Without synchronizers every cluster is on its own: each caller reaches both of its own
// cluster's `b` instances and nothing else. Checks the lab itself: routing inside a cluster,
// etcd across two hosts, one SQLite file shared by two hosts, registered host addresses.
TEST(MultiClusterLab, WithoutSynchronizersEachClusterServesItself) {
  ThreeClusters lab;
  const absl::Status started = lab.Start({.synchronizers = false});
  ASSERT_TRUE(started.ok()) << started;
  for (const std::string& cluster : LabClusters()) {
    const CallTally t = lab.Call(lab.caller(cluster), 40);
    EXPECT_EQ(t.failures, 0) << cluster << ": " << t.Describe();
    EXPECT_EQ(t.answered_in(cluster), 40) << cluster << ": " << t.Describe();
    for (int host = 1; host <= 2; ++host)
      EXPECT_GT(t.answered_by.count(AppName(cluster, host)), 0u) << cluster << ": " << t.Describe();
  }
  if (HasFailure()) ADD_FAILURE() << lab.Logs();
}

}  // namespace
}  // namespace ringside::multicluster_test
