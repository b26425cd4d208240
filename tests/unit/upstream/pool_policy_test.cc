// PeerPool's placement rules (upstream/pool_policy.h): which connection a call to one peer
// takes, when another connection is dialled, when a call waits and when it is refused.
#include "dataplane/upstream/pool_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringside::upstream {
namespace {

using Kind = Placement::Kind;

Placement place(const std::vector<ConnectionLoad>& conns, uint32_t max_conns, uint32_t max_pending,
                bool may_dial = true) {
  return place_call(conns, PoolLimits{.max_connections = max_conns, .max_pending = max_pending},
                    may_dial);
}

TEST(PoolPolicy, FirstCallDialsTheFirstConnection) {
  EXPECT_EQ(place({}, 8, 16).kind, Kind::kDial);
}

TEST(PoolPolicy, NothingToUseAndNoDialDuringBackOff) {
  EXPECT_EQ(place({}, 8, 16, /*may_dial=*/false).kind, Kind::kNone);
}

TEST(PoolPolicy, OldestConnectionWithAFreeStreamTakesTheCall) {
  Placement p = place({{4, 4}, {1, 4}, {0, 4}}, 8, 16);
  EXPECT_EQ(p.kind, Kind::kUse);
  EXPECT_EQ(p.index, 1u);  // not the idle newest one: extras fall idle and close
}

TEST(PoolPolicy, AllFullBelowTheCapDialsAnother) {
  EXPECT_EQ(place({{4, 4}, {4, 4}}, 3, 16).kind, Kind::kDial);
}

TEST(PoolPolicy, AtTheCapTheCallWaitsOnTheShortestQueue) {
  Placement p = place({{6, 4}, {5, 4}, {7, 4}}, 3, 16);
  EXPECT_EQ(p.kind, Kind::kQueue);
  EXPECT_EQ(p.index, 1u);
}

TEST(PoolPolicy, WaitingCallsAreBoundedPerPeer) {
  // 2 + 1 + 3 = 6 calls already wait.
  EXPECT_EQ(pending_calls(std::vector<ConnectionLoad>{{6, 4}, {5, 4}, {7, 4}}), 6u);
  EXPECT_EQ(place({{6, 4}, {5, 4}, {7, 4}}, 3, 7).kind, Kind::kQueue);
  EXPECT_EQ(place({{6, 4}, {5, 4}, {7, 4}}, 3, 6).kind, Kind::kRefuse);
  EXPECT_EQ(place({{4, 4}}, 1, 0).kind, Kind::kRefuse);  // max_pending 0: never wait
}

TEST(PoolPolicy, DialBackOffWithFullConnectionsQueuesInstead) {
  EXPECT_EQ(place({{4, 4}}, 8, 16, /*may_dial=*/false).kind, Kind::kQueue);
}

Placement spread_place(const std::vector<ConnectionLoad>& conns, uint32_t width, uint32_t cursor,
                       uint32_t max_conns = 8, bool may_dial = true) {
  return place_call(conns, PoolLimits{.max_connections = max_conns, .max_pending = 16}, may_dial,
                    Spread{.width = width, .cursor = cursor});
}

TEST(PoolPolicy, ASpreadPeerGetsOneConnectionPerShardDialledAsSpares) {
  // A callee with 3 shards: the next calls each dial a spare, and go on a ready connection.
  Placement p = spread_place({{0, 100}}, 3, 0);
  EXPECT_EQ(p.kind, Kind::kUse);
  EXPECT_EQ(p.index, 0u);
  EXPECT_TRUE(p.dial_spare);
  p = spread_place({{1, 100}, {0, 100, /*ready=*/false}}, 3, 1);
  EXPECT_EQ(p.kind, Kind::kUse);
  EXPECT_EQ(p.index, 0u) << "a connection still coming up takes no call while a ready one can";
  EXPECT_TRUE(p.dial_spare);
  p = spread_place({{1, 100}, {1, 100}, {0, 100}}, 3, 2);
  EXPECT_EQ(p.kind, Kind::kUse);
  EXPECT_FALSE(p.dial_spare);  // all three there
  // The first call of all dials (nothing to use), as without spread.
  EXPECT_EQ(spread_place({}, 3, 0).kind, Kind::kDial);
  // Never beyond --peer-max-connections, and not during dial back-off.
  EXPECT_FALSE(spread_place({{0, 100}, {0, 100}}, 3, 0, /*max_conns=*/2).dial_spare);
  EXPECT_FALSE(spread_place({{0, 100}}, 3, 0, 8, /*may_dial=*/false).dial_spare);
  // Only a connection coming up has a free stream: it takes the call (rather than a new dial).
  p = spread_place({{4, 4}, {0, 4, /*ready=*/false}}, 2, 0);
  EXPECT_EQ(p.kind, Kind::kUse);
  EXPECT_EQ(p.index, 1u);
}

TEST(PoolPolicy, SpreadCallsTakeTheConnectionsInTurn) {
  const std::vector<ConnectionLoad> idle{{0, 100}, {0, 100}, {0, 100}};
  std::vector<size_t> taken;
  for (uint32_t cursor = 0; cursor < 6; ++cursor) {
    Placement p = spread_place(idle, 3, cursor);
    ASSERT_EQ(p.kind, Kind::kUse);
    taken.push_back(p.index);
  }
  EXPECT_EQ(taken, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
  // A full connection in its turn passes the call to the next one with a free stream.
  Placement p = spread_place({{0, 4}, {4, 4}, {0, 4}}, 3, 1);
  EXPECT_EQ(p.kind, Kind::kUse);
  EXPECT_EQ(p.index, 2u);
  p = spread_place({{0, 4}, {4, 4}, {4, 4}}, 3, 2);
  EXPECT_EQ(p.index, 0u);  // wraps around
  // All full: the usual rules (dial below the cap, else the shortest queue).
  EXPECT_EQ(spread_place({{4, 4}, {4, 4}, {4, 4}}, 3, 0).kind, Kind::kDial);
  p = spread_place({{6, 4}, {5, 4}, {7, 4}}, 3, 0, /*max_conns=*/3);
  EXPECT_EQ(p.kind, Kind::kQueue);
  EXPECT_EQ(p.index, 1u);
}

TEST(PoolPolicy, SpreadWidthIsTheCalleesShardsBoundedByTheCap) {
  const PoolLimits limits{.max_connections = 4, .max_pending = 16};
  EXPECT_EQ(spread_width(0, limits), 1u);  // not a ringside callee (daprd, a gRPC app)
  EXPECT_EQ(spread_width(1, limits), 1u);
  EXPECT_EQ(spread_width(3, limits), 3u);
  EXPECT_EQ(spread_width(16, limits), 4u);
}

TEST(PoolPolicy, PlanningLimitUsesWhatThePeerAdvertised) {
  EXPECT_EQ(planning_limit(1, /*settings_received=*/false, /*learned=*/0), 100u);  // unknown peer
  EXPECT_EQ(planning_limit(1, false, 4), 4u);     // a fresh connection to a peer known to allow 4
  EXPECT_EQ(planning_limit(4, true, 8), 4u);      // its own SETTINGS win
  EXPECT_EQ(planning_limit(200, true, 4), 200u);  // the peer raised its limit
}

TEST(PoolPolicy, OnceTheLimitIsLearnedCallsAboveItCountAsWaiting) {
  // A burst placed 100 calls on a fresh connection; its SETTINGS then said 4.
  std::vector<ConnectionLoad> conns{{100, planning_limit(4, true, 0)}};
  EXPECT_EQ(pending_calls(conns), 96u);
  EXPECT_EQ(place(conns, 8, 100).kind, Kind::kDial);  // below the cap: another connection
  EXPECT_EQ(place(conns, 1, 100).kind, Kind::kQueue);
  EXPECT_EQ(place(conns, 1, 96).kind, Kind::kRefuse);
}

}  // namespace
}  // namespace ringside::upstream
