// AcceptBalancer: which shard serves a newly accepted connection. The acceptor keeps it unless
// another shard that takes handoffs has at least min_gap fewer; counts follow assign, move and
// release, so a stream of accepts on one shard ends evenly spread.
#include "dataplane/runtime/accept_balancer.h"

#include <gtest/gtest.h>

namespace ringside::shard {
namespace {

io::Operation handoff_ops[4];  // stand-ins for each shard's handoff completion

void OpenAll(AcceptBalancer& b) {
  for (int i = 0; i < b.shards(); ++i) b.open(i, 100 + i, &handoff_ops[i]);
}

TEST(AcceptBalancer, AcceptsOnOneShardEndEvenlySpread) {
  AcceptBalancer b(2, /*min_gap=*/1);
  OpenAll(b);
  for (int i = 0; i < 10; ++i) b.assign(0);  // the kernel put every connection on shard 0
  EXPECT_EQ(b.live(0), 5);
  EXPECT_EQ(b.live(1), 5);
}

TEST(AcceptBalancer, TiesStayWithTheAcceptorAndAHandoffNamesTheTargetRing) {
  AcceptBalancer b(2, 1);
  OpenAll(b);
  AcceptBalancer::Target t = b.assign(1);
  EXPECT_EQ(t.shard, 1);  // 0 / 0: keep it
  EXPECT_EQ(t.handoff, nullptr);
  t = b.assign(1);  // 0 / 1: shard 0 has fewer
  EXPECT_EQ(t.shard, 0);
  EXPECT_EQ(t.ring_fd, 100);
  EXPECT_EQ(t.handoff, &handoff_ops[0]);
  EXPECT_EQ(b.live(0), 1);
  EXPECT_EQ(b.live(1), 1);
}

TEST(AcceptBalancer, ShardsThatTakeNoHandoffsAreSkipped) {
  AcceptBalancer b(3, 1);
  OpenAll(b);
  b.open(1, -1, nullptr);  // shard 1 is draining
  for (int i = 0; i < 6; ++i) b.assign(0);
  EXPECT_EQ(b.live(0), 3);
  EXPECT_EQ(b.live(1), 0);
  EXPECT_EQ(b.live(2), 3);
}

TEST(AcceptBalancer, MinGapLeavesSmallDifferences) {
  AcceptBalancer b(2, 2);
  OpenAll(b);
  EXPECT_EQ(b.assign(0).shard, 0);  // 1 / 0
  EXPECT_EQ(b.assign(0).shard, 0);  // 2 / 0
  EXPECT_EQ(b.assign(0).shard, 1);  // 0 <= 2 - 2: handed over
}

TEST(AcceptBalancer, ReleaseAndFailedHandoffsKeepCountsRight) {
  AcceptBalancer b(2, 1);
  OpenAll(b);
  b.assign(0);                          // 1 / 0
  const auto t = b.assign(0);           // 1 / 1, to shard 1
  ASSERT_EQ(t.shard, 1);
  b.move(t.shard, 0);                   // the MSG_RING failed: shard 0 serves it
  EXPECT_EQ(b.live(0), 2);
  EXPECT_EQ(b.live(1), 0);
  b.release(0);
  b.release(0);
  EXPECT_EQ(b.live(0), 0);
  EXPECT_EQ(b.assign(1).shard, 1);      // 0 / 0 again: a tie stays
}

}  // namespace
}  // namespace ringside::shard
