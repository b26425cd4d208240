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
