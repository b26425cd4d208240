// spec.ringside.loadBalancing: policies per app id with a global default, hash headers, outlier
// detection; every bad value is an error naming its YAML path (ringsided exits 2 on it).
#include "controlplane/config/load_balancing_config.h"

#include <gtest/gtest.h>

#include "controlplane/config/configuration.h"

namespace ringside::config {
namespace {

using snapshot::LbPolicy;

TEST(LoadBalancingConfig, DefaultsAreRoundRobinWithOutlierDetection) {
  absl::StatusOr<Configuration> c = parse_configuration("spec: {}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->load_balancing.defaults.policy, LbPolicy::kRoundRobin);
  EXPECT_TRUE(c->load_balancing.apps.empty());
  EXPECT_EQ(c->load_balancing.outlier.consecutive_failures, 3u);
  EXPECT_EQ(c->load_balancing.outlier.base_ejection_ns, 1'000'000'000);
  EXPECT_EQ(c->load_balancing.outlier.max_ejection_ns, 30'000'000'000);
}

TEST(LoadBalancingConfig, GlobalPolicyAndPerAppOverrides) {
  absl::StatusOr<Configuration> c = parse_configuration(R"(
apiVersion: dapr.io/v1alpha1
kind: Configuration
spec:
  ringside:
    loadBalancing:
      policy: leastRequest
      outlierDetection: {consecutiveFailures: 5, baseEjectionTime: 500ms, maxEjectionTime: 10s}
      apps:
        b: {policy: ringHash, hashHeader: X-User}
        c: {policy: maglev, hashHeader: tenant}
        d: {policy: random}
        e: {}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const snapshot::LoadBalancing& lb = c->load_balancing;
  EXPECT_EQ(lb.defaults.policy, LbPolicy::kLeastRequest);
  EXPECT_EQ(lb.for_app("b").policy, LbPolicy::kRingHash);
  EXPECT_EQ(lb.for_app("b").hash_header, "x-user");  // stored lower case
  EXPECT_EQ(lb.for_app("c").policy, LbPolicy::kMaglev);
  EXPECT_EQ(lb.for_app("d").policy, LbPolicy::kRandom);
  EXPECT_EQ(lb.for_app("e").policy, LbPolicy::kLeastRequest);  // inherits the global default
  EXPECT_EQ(lb.for_app("zzz").policy, LbPolicy::kLeastRequest);
  EXPECT_EQ(lb.outlier.consecutive_failures, 5u);
  EXPECT_EQ(lb.outlier.base_ejection_ns, 500'000'000);
  EXPECT_EQ(lb.outlier.max_ejection_ns, 10'000'000'000);
}

TEST(LoadBalancingConfig, GlobalHashHeaderIsInheritedByHashApps) {
  snapshot::LoadBalancing lb;
  ASSERT_TRUE(parse_load_balancing_yaml("hashHeader: x-session\napps:\n  b: {policy: maglev}\n", &lb).ok());
  EXPECT_EQ(lb.for_app("b").hash_header, "x-session");
  EXPECT_EQ(lb.defaults.policy, LbPolicy::kRoundRobin);
}

struct BadCase {
  const char* yaml;      // the loadBalancing map
  const char* message;   // the whole error
};

TEST(LoadBalancingConfig, BadValuesNameTheirPath) {
  const BadCase cases[] = {
      {"policy: fastest", "spec.ringside.loadBalancing.policy: \"fastest\" is not a policy (roundRobin, random, leastRequest, ringHash, maglev)"},
      {"policy: maglev", "spec.ringside.loadBalancing.hashHeader: is required by the ringHash and maglev policies"},
      {"apps: {b: {policy: ringHash}}", "spec.ringside.loadBalancing.apps.b.hashHeader: is required by the ringHash and maglev policies"},
      {"apps: {b: {policy: ringHash, hashHeader: \"x user\"}}", "spec.ringside.loadBalancing.apps.b.hashHeader: \"x user\" is not a header name"},
      {"apps: {b: {policy: random, weight: 3}}", "spec.ringside.loadBalancing.apps.b.weight: unknown key (expected one of: policy, hashHeader)"},
      {"apps: {b: random}", "spec.ringside.loadBalancing.apps.b: must be a map with policy and/or hashHeader"},
      {"apps: [b]", "spec.ringside.loadBalancing.apps: must be a map of app id to {policy, hashHeader}"},
      {"polcy: random", "spec.ringside.loadBalancing.polcy: unknown key (expected one of: policy, hashHeader, outlierDetection, apps)"},
      {"policy: [random]", "spec.ringside.loadBalancing.policy: must be a single value"},
      {"outlierDetection: {consecutiveFailures: -1}", "spec.ringside.loadBalancing.outlierDetection.consecutiveFailures: \"-1\" is not an integer in [0, 1000]"},
      {"outlierDetection: {baseEjectionTime: soon}", "spec.ringside.loadBalancing.outlierDetection.baseEjectionTime: \"soon\" is not a duration (e.g. 5s, 500ms, 1m)"},
      {"outlierDetection: {baseEjectionTime: 10s, maxEjectionTime: 1s}", "spec.ringside.loadBalancing.outlierDetection.maxEjectionTime: must not be shorter than baseEjectionTime"},
      {"outlierDetection: 3", "spec.ringside.loadBalancing.outlierDetection: must be a map"},
      {"hashHeader: \"\"", "spec.ringside.loadBalancing.hashHeader: must not be empty"},
  };
  for (const BadCase& c : cases) {
    snapshot::LoadBalancing lb;
    absl::Status s = parse_load_balancing_yaml(c.yaml, &lb);
    EXPECT_FALSE(s.ok()) << c.yaml;
    EXPECT_EQ(std::string(s.message()), c.message) << c.yaml;
  }
  // Through the whole document too (what ringsided reports before exiting 2).
  absl::StatusOr<Configuration> doc = parse_configuration("spec:\n  ringside:\n    loadBalancing: roundRobin\n");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(std::string(doc.status().message()), "spec.ringside.loadBalancing: must be a map");
}

}  // namespace
}  // namespace ringside::config
