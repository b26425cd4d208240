// HealthDecider: daprd's app health rules (pkg/apphealth), decision by decision.
#include "controlplane/apphealth/health_decider.h"

#include <gtest/gtest.h>

namespace ringside::apphealth {
namespace {

using T = HealthDecider::Transition;

TEST(HealthDeciderTest, StartsUnhealthyAndTheFirstSuccessMakesItHealthy) {
  HealthDecider d(3);
  EXPECT_FALSE(d.healthy());
  EXPECT_EQ(d.record(false), T::kNone);  // still unhealthy: no transition, nothing logged
  EXPECT_FALSE(d.healthy());
  EXPECT_EQ(d.record(true), T::kBecameHealthy);
  EXPECT_TRUE(d.healthy());
  EXPECT_EQ(d.record(true), T::kNone);
}

TEST(HealthDeciderTest, ThresholdConsecutiveFailuresMakeItUnhealthyOnce) {
  HealthDecider d(3);
  ASSERT_EQ(d.record(true), T::kBecameHealthy);
  EXPECT_EQ(d.record(false), T::kNone);
  EXPECT_EQ(d.record(false), T::kNone);
  EXPECT_TRUE(d.healthy());
  EXPECT_EQ(d.record(false), T::kBecameUnhealthy);
  EXPECT_FALSE(d.healthy());
  EXPECT_EQ(d.failures(), 3);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(d.record(false), T::kNone);  // logged once only
  EXPECT_LE(d.failures(), 4);  // capped: a long outage does not overflow the count
  EXPECT_EQ(d.record(true), T::kBecameHealthy);
  EXPECT_EQ(d.failures(), 0);
}

TEST(HealthDeciderTest, OneSuccessResetsTheCount) {
  HealthDecider d(2);
  ASSERT_EQ(d.record(true), T::kBecameHealthy);
  EXPECT_EQ(d.record(false), T::kNone);
  EXPECT_EQ(d.record(true), T::kNone);
  EXPECT_EQ(d.record(false), T::kNone);  // 1 again, not 2
  EXPECT_TRUE(d.healthy());
  EXPECT_EQ(d.record(false), T::kBecameUnhealthy);
}

TEST(HealthDeciderTest, ThresholdOfOneFlipsOnEveryChange) {
  HealthDecider d(1);
  EXPECT_EQ(d.record(true), T::kBecameHealthy);
  EXPECT_EQ(d.record(false), T::kBecameUnhealthy);
  EXPECT_EQ(d.record(true), T::kBecameHealthy);
}

TEST(HealthDeciderTest, ThresholdBelowOneIsOne) {
  HealthDecider d(0);
  EXPECT_EQ(d.threshold(), 1);
  EXPECT_FALSE(d.healthy());
}

}  // namespace
}  // namespace ringside::apphealth
