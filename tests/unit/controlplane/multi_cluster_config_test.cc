#include "controlplane/config/multi_cluster_config.h"

#include "controlplane/config/configuration.h"
#include "gtest/gtest.h"
#include "tests/unit/controlplane/temp_dir.h"

namespace ringside::config {
namespace {

using snapshot::ClusterStrategy;

absl::StatusOr<MultiCluster> Parse(const std::string& section) {
  auto c = parse_configuration("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  ringside:\n    multiCluster:\n" + section);
  if (!c.ok()) return c.status();
  return c->multi_cluster;
}

TEST(MultiClusterConfigTest, AbsentSectionIsSingleCluster) {
  auto c = parse_configuration("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec: {}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->multi_cluster.enabled());
  EXPECT_EQ(c->multi_cluster.strategies.for_app("b"), ClusterStrategy::kLocalFirst);
}

TEST(MultiClusterConfigTest, FullSectionParses) {
  auto m = Parse(
      "      cluster: east\n"
      "      synchronizers: [\"198.51.100.10:50070\", \"sync.east.example:50071\", \"[2001:db8::1]:50070\"]\n"
      "      token: s3cret\n"
      "      strategy: external-first\n"
      "      apps:\n"
      "        b: {strategy: broadcast}\n"
      "        c: {strategy: localOnly}\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->enabled());
  EXPECT_EQ(m->cluster, "east");
  ASSERT_EQ(m->synchronizers.size(), 3u);
  EXPECT_EQ(m->synchronizers[1], "sync.east.example:50071");
  EXPECT_EQ(m->token, "s3cret");
  EXPECT_EQ(m->strategies.for_app("a"), ClusterStrategy::kExternalFirst);
  EXPECT_EQ(m->strategies.for_app("b"), ClusterStrategy::kBroadcast);
  EXPECT_EQ(m->strategies.for_app("c"), ClusterStrategy::kLocalOnly);
}

TEST(MultiClusterConfigTest, CommaSeparatedSynchronizersAndTokenFile) {
  ringside::testing::TempDir dir;
  const std::string file = dir.write("token", "  from-file\n");
  auto m = Parse("      cluster: west\n      synchronizers: \"127.0.0.1:1, 127.0.0.1:2\"\n      tokenFile: " + file + "\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->synchronizers, (std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"}));
  EXPECT_EQ(m->token, "from-file");
}

TEST(MultiClusterConfigTest, ErrorsNameThePath) {
  struct Case {
    std::string section;
    std::string expected;
  };
  const Case cases[] = {
      {"      cluster: east\n      strategy: nearest\n", "spec.ringside.multiCluster.strategy: \"nearest\" is not a strategy"},
      {"      cluster: east\n      apps:\n        b: {strategy: everywhere}\n", "spec.ringside.multiCluster.apps.b.strategy"},
      {"      synchronizers: [\"127.0.0.1:5\"]\n", "spec.ringside.multiCluster.cluster: is required"},
      {"      cluster: east\n      synchronizers: [\"nohost\"]\n", "spec.ringside.multiCluster.synchronizers[0]: \"nohost\" is not host:port"},
      {"      cluster: \"e st\"\n", "spec.ringside.multiCluster.cluster"},
      {"      cluster: east\n      tokenFile: /nonexistent/token\n", "spec.ringside.multiCluster.tokenFile: cannot read"},
      {"      cluster: east\n      strategies: local-first\n", "spec.ringside.multiCluster.strategies: unknown key"},
      {"      cluster: east\n      apps:\n        b: {}\n", "spec.ringside.multiCluster.apps.b.strategy: is required"},
  };
  for (const Case& c : cases) {
    auto m = Parse(c.section);
    ASSERT_FALSE(m.ok()) << c.section;
    EXPECT_NE(std::string(m.status().message()).find(c.expected), std::string::npos)
        << m.status().message() << "\n  expected: " << c.expected;
  }
}

}  // namespace
}  // namespace ringside::config
