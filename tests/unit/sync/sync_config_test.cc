// The sync config file and flags: defaults, every key, and errors that name the key or flag.
#include "controlplane/sync/sync_config.h"

#include <fstream>

#include "gtest/gtest.h"

namespace ringside::sync {
namespace {

std::string error_of(std::string_view yaml) {
  absl::StatusOr<SyncConfig> c = parse_sync_config(yaml);
  return c.ok() ? std::string("(ok)") : std::string(c.status().message());
}

absl::StatusOr<SyncCommand> command(std::vector<const char*> args) {
  args.insert(args.begin(), "ringside-sync");
  return parse_sync_command(static_cast<int>(args.size()), args.data());
}

TEST(SyncConfigTest, ParsesEveryKey) {
  absl::StatusOr<SyncConfig> c = parse_sync_config(R"(
cluster: east
listen: 127.0.0.1:50070
metricsPort: 0
nameResolution:
  component: etcd
  configuration: {endpoints: ["127.0.0.1:2379"]}
registryRefreshInterval: 250ms
peers:
  - cluster: west
    addresses: ["203.0.113.10:50070", "203.0.113.11:50070"]
    token: s3cret
subscriberToken: sub
heartbeatInterval: 1s
maxSubscribers: 5
subscriberQueue: 7
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cluster, "east");
  EXPECT_EQ(c->metrics_port, 0);
  EXPECT_EQ(c->registry.component, "etcd");
  EXPECT_NE(c->registry.configuration_yaml.find("2379"), std::string::npos);
  EXPECT_EQ(c->registry_refresh, std::chrono::milliseconds(250));
  ASSERT_EQ(c->peers.size(), 1u);
  EXPECT_EQ(c->peers[0].addresses.size(), 2u);
  EXPECT_EQ(c->peers[0].token, "s3cret");
  EXPECT_EQ(c->subscriber_token, "sub");
  EXPECT_EQ(c->export_ttl, std::chrono::milliseconds(3000));  // 3x heartbeat by default
  EXPECT_EQ(c->max_subscribers, 5u);
  EXPECT_EQ(c->subscriber_queue, 7u);
}

TEST(SyncConfigTest, ErrorsNameTheKey) {
  EXPECT_NE(error_of("clustr: a").find("clustr: unknown key"), std::string::npos) << error_of("clustr: a");
  EXPECT_NE(error_of("peers: [{cluster: b, addresses: [x], token: t}]").find("peers[0].addresses[0]: \"x\" is not host:port"),
            std::string::npos);
  EXPECT_NE(error_of("peers: [{cluster: b, addresses: [\"h:1\"]}]").find("peers[0].token: is required"), std::string::npos);
  EXPECT_NE(error_of("nameResolution: {component: consul}").find("nameResolution.component: \"consul\" cannot be read"),
            std::string::npos);
  EXPECT_NE(error_of("nameResolution: {component: sqlite, configuration: {updateInterval: abc}}")
                .find("nameResolution.configuration.updateInterval"),
            std::string::npos)
      << error_of("nameResolution: {component: sqlite, configuration: {updateInterval: abc}}");
  EXPECT_NE(error_of("heartbeatInterval: 2s\nexportTtl: 1s").find("exportTtl: must be longer"), std::string::npos);
  EXPECT_NE(error_of("heartbeatInterval: soon").find("heartbeatInterval"), std::string::npos);
  EXPECT_NE(error_of("peers: [{cluster: b, addresses: [\"h:1\"], token: t}, {cluster: b, addresses: [\"h:2\"], token: t}]")
                .find("peers[1].cluster: \"b\" is listed twice"),
            std::string::npos);
}

TEST(SyncCommandTest, FlagsOverrideTheFileAndBadOnesAreNamed) {
  const std::string path = ::testing::TempDir() + "/sync_config_test.yaml";
  std::ofstream(path) << "cluster: east\nlisten: 127.0.0.1:1\n";
  absl::StatusOr<SyncCommand> c = command({"--config", path.c_str(), "--cluster=west", "--listen", "127.0.0.1:2",
                                           "--metrics-port", "-1", "--log-level", "debug"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.cluster, "west");
  EXPECT_EQ(c->config.listen, "127.0.0.1:2");
  EXPECT_EQ(c->config.metrics_port, -1);
  EXPECT_EQ(c->config.metrics_address, "127.0.0.1");
  EXPECT_EQ(c->config.log_level, "debug");
  EXPECT_TRUE(command({"--help"})->help);

  auto message = [](absl::StatusOr<SyncCommand> r) { return r.ok() ? std::string("(ok)") : std::string(r.status().message()); };
  EXPECT_NE(message(command({"--bogus", "1"})).find("unknown flag --bogus"), std::string::npos);
  EXPECT_NE(message(command({"--cluster", "a", "--metrics-port", "x"})).find("flag --metrics-port"), std::string::npos);
  EXPECT_NE(message(command({"--cluster", "a", "--log-level", "loud"})).find("flag --log-level"), std::string::npos);
  EXPECT_NE(message(command({})).find("flag --cluster: a cluster name is required"), std::string::npos);
  EXPECT_NE(message(command({"--cluster", "a b"})).find("flag --cluster"), std::string::npos);
  EXPECT_NE(message(command({"--cluster", "a", "--listen", "nowhere"})).find("flag --listen"), std::string::npos);
  EXPECT_NE(message(command({"--config", "/nonexistent/sync.yaml"})).find("--config: cannot read"), std::string::npos);
}

}  // namespace
}  // namespace ringside::sync
