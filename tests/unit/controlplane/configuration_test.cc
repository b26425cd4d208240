#include "controlplane/config/configuration.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/unit/controlplane/temp_dir.h"

namespace ringside::config {
namespace {

using namespace std::chrono_literals;

class ConfigurationTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("RINGSIDE_NR_SQLITE", "/tmp/ringside-test-nr.db", 1); }
  void TearDown() override { unsetenv("RINGSIDE_NR_SQLITE"); }
};

std::string error_of(std::string_view yaml) {
  absl::StatusOr<Configuration> c = parse_configuration(yaml);
  return c.ok() ? "ok" : std::string(c.status().message());
}

TEST_F(ConfigurationTest, EmptyMeansSqliteWithDefaults) {
  absl::StatusOr<Configuration> c = load_configuration("");
  ASSERT_TRUE(c.ok()) << c.status();
  const SqliteOptions& s = c->name_resolution.sqlite;
  EXPECT_EQ(c->name_resolution.component, "sqlite");
  EXPECT_EQ(s.path, "/tmp/ringside-test-nr.db");
  EXPECT_TRUE(s.path_is_default);
  EXPECT_EQ(s.update_interval, 5s);
  EXPECT_EQ(s.timeout, 1s);
  EXPECT_EQ(s.table_name, "hosts");
  EXPECT_EQ(s.metadata_table_name, "metadata");
  EXPECT_EQ(s.cleanup_interval, 1h);
  EXPECT_EQ(s.busy_timeout, 800ms);
  EXPECT_FALSE(s.disable_wal);
}

TEST_F(ConfigurationTest, DefaultPathFollowsXdgStateHome) {
  unsetenv("RINGSIDE_NR_SQLITE");
  setenv("XDG_STATE_HOME", "/var/tmp/state", 1);
  EXPECT_EQ(default_sqlite_path(), "/var/tmp/state/ringside/nameresolution.db");
  unsetenv("XDG_STATE_HOME");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_sqlite_path(), "/home/u/.local/state/ringside/nameresolution.db");
}

TEST_F(ConfigurationTest, ReadsSqliteOptions) {
  absl::StatusOr<Configuration> c = parse_configuration(R"yaml(
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: appconfig
spec:
  nameResolution:
    component: sqlite
    version: v1
    configuration:
      connectionString: "file:/data/nr.db?_pragma=busy_timeout(100)"
      updateInterval: 10s
      timeout: 2s
      tableName: peers
      metadataTableName: peers_meta
      cleanupInterval: 30m
      busyTimeout: 250ms
      disableWAL: true
)yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  const SqliteOptions& s = c->name_resolution.sqlite;
  EXPECT_EQ(s.path, "/data/nr.db");
  EXPECT_FALSE(s.path_is_default);
  EXPECT_EQ(s.update_interval, 10s);
  EXPECT_EQ(s.timeout, 2s);
  EXPECT_EQ(s.table_name, "peers");
  EXPECT_EQ(s.metadata_table_name, "peers_meta");
  EXPECT_EQ(s.cleanup_interval, 30min);
  EXPECT_EQ(s.busy_timeout, 250ms);
  EXPECT_TRUE(s.disable_wal);
}

TEST_F(ConfigurationTest, ErrorsNameTheYamlPath) {
  const std::string nr = "spec:\n  nameResolution:\n    component: sqlite\n    configuration:\n";
  EXPECT_EQ(error_of(nr + "      updateInterval: abc\n"),
            "spec.nameResolution.configuration.updateInterval: \"abc\" is not a duration (e.g. 5s, 500ms, 1m)");
  EXPECT_EQ(error_of(nr + "      updateInterval: 1500ms\n"),
            "spec.nameResolution.configuration.updateInterval: must be a whole number of seconds (SQLite stores seconds)");
  EXPECT_EQ(error_of(nr + "      updateInterval: 1s\n"),
            "spec.nameResolution.configuration.updateInterval: must be at least 1s greater than timeout");
  EXPECT_EQ(error_of(nr + "      timeout: 10ms\n"), "spec.nameResolution.configuration.timeout: must be at least 1s");
  EXPECT_EQ(error_of(nr + "      tableName: \"x; DROP TABLE y\"\n"),
            "spec.nameResolution.configuration.tableName: \"x; DROP TABLE y\" is not a valid table name (letters, digits, _)");
  EXPECT_EQ(error_of(nr + "      disableWAL: perhaps\n"),
            "spec.nameResolution.configuration.disableWAL: \"perhaps\" is not a boolean");
  EXPECT_EQ(error_of(nr + "      timeout: [1, 2]\n"), "spec.nameResolution.configuration.timeout: must be a single value");
  EXPECT_EQ(error_of("spec:\n  nameResolution:\n    component: aws.cloudmap\n"),
            "spec.nameResolution.component: \"aws.cloudmap\" is not supported by ringside (sqlite, static, mdns, kubernetes, nameformat, consul, etcd)");
  EXPECT_EQ(error_of("kind: Resiliency\n"), "kind: \"Resiliency\" is not Configuration");
  EXPECT_EQ(error_of("apiVersion: v2\n"), "apiVersion: \"v2\" is not dapr.io/v1alpha1");
  EXPECT_EQ(error_of("spec: 3\n"), "spec: must be a map");
  EXPECT_EQ(error_of("- a\n- b\n"), "(document): must be a map (a Dapr Configuration resource)");
  EXPECT_NE(error_of("spec: {nameResolution: [\n").find("invalid YAML: line"), std::string::npos);
}

TEST_F(ConfigurationTest, StaticInlineApps) {
  absl::StatusOr<Configuration> c = parse_configuration(R"yaml(
spec:
  nameResolution:
    component: static
    configuration:
      apps:
        - appId: b
          address: 127.0.0.1:50002
        - appId: c
          namespace: prod
          address: localhost:50003
          cluster: east
          weight: 3
)yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  const StaticOptions& s = c->name_resolution.static_options;
  ASSERT_EQ(s.apps.size(), 2u);
  EXPECT_EQ(s.apps[0].app_id, "b");
  EXPECT_EQ(s.apps[0].app_namespace, "default");
  EXPECT_EQ(s.apps[0].weight, 1u);
  EXPECT_EQ(s.apps[1].app_namespace, "prod");
  EXPECT_EQ(s.apps[1].address, "localhost:50003");
  EXPECT_EQ(s.apps[1].cluster, "east");
  EXPECT_EQ(s.apps[1].weight, 3u);
}

TEST_F(ConfigurationTest, StaticErrors) {
  const std::string st = "spec:\n  nameResolution:\n    component: static\n    configuration:\n";
  EXPECT_EQ(error_of(st + "      apps:\n        - address: 127.0.0.1:1\n"),
            "spec.nameResolution.configuration.apps[0].appId: is required");
  EXPECT_EQ(error_of(st + "      apps:\n        - appId: b\n          address: example.com\n"),
            "spec.nameResolution.configuration.apps[0].address: \"example.com\" is not host:port (IPv4, [IPv6] or a host name)");
  EXPECT_EQ(error_of(st + "      apps:\n        - appId: b\n          address: 127.0.0.1:99999\n"),
            "spec.nameResolution.configuration.apps[0].address: \"127.0.0.1:99999\" is not host:port (IPv4, [IPv6] or a host name)");
  EXPECT_EQ(error_of(st + "      apps:\n        - appId: b\n          address: 127.0.0.1:1\n          weight: -2\n"),
            "spec.nameResolution.configuration.apps[0].weight: \"-2\" is not an integer in [0, 1000000]");
  EXPECT_EQ(error_of(st + "      apps: 3\n"), "spec.nameResolution.configuration.apps: must be a list");
  EXPECT_EQ(error_of("spec:\n  nameResolution:\n    component: static\n"),
            "spec.nameResolution.configuration: the static resolver needs `file` or `apps`");
}

TEST_F(ConfigurationTest, StaticFileFormat) {
  absl::StatusOr<std::vector<StaticApp>> apps = parse_static_apps("apps:\n  - appId: b\n    address: 127.0.0.1:50002\n");
  ASSERT_TRUE(apps.ok()) << apps.status();
  ASSERT_EQ(apps->size(), 1u);
  EXPECT_EQ((*apps)[0].app_id, "b");
  EXPECT_TRUE(parse_static_apps("").ok());
  absl::StatusOr<std::vector<StaticApp>> bad = parse_static_apps("apps:\n  - appId: b\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "apps[0].address: is required");
  EXPECT_FALSE(parse_static_apps("apps: [").ok());
}

TEST_F(ConfigurationTest, DataplaneSectionFillsWhatFlagsLeftUnset) {
  absl::StatusOr<Configuration> c = parse_configuration(R"yaml(
spec:
  ringside:
    dataplane:
      ringEntries: 256
      bufferSize: 32Ki
      bufferCount: 64
      sqpoll: true
      sqpollCpu: 1
      peerCallTimeout: 90s
)yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dataplane.buffer_size, 32u << 10);
  Options o;
  o.ring_entries = 2048;
  o.flags_given.insert("ring-entries");  // as if --ring-entries 2048 was given
  ASSERT_TRUE(apply_dataplane_config(c->dataplane, &o).ok());
  EXPECT_EQ(o.ring_entries, 2048u);  // flag wins
  EXPECT_EQ(o.buffer_size, 32u << 10);
  EXPECT_EQ(o.buffer_count, 64u);
  EXPECT_TRUE(o.sqpoll);
  EXPECT_EQ(o.sqpoll_cpu, 1);
  EXPECT_EQ(o.peer_call_timeout, std::chrono::seconds(90));
  Options flagged;
  flagged.peer_call_timeout = std::chrono::seconds(5);
  flagged.flags_given.insert("peer-call-timeout");
  ASSERT_TRUE(apply_dataplane_config(c->dataplane, &flagged).ok());
  EXPECT_EQ(flagged.peer_call_timeout, std::chrono::seconds(5));  // flag wins
  EXPECT_EQ(error_of("spec:\n  ringside:\n    dataplane:\n      peerCallTimeout: soon\n"),
            "spec.ringside.dataplane.peerCallTimeout: \"soon\" is not a duration (e.g. 5s, 500ms, 1m)");
}

TEST_F(ConfigurationTest, DataplaneCpus) {
  const std::vector<int> allowed = allowed_cpus();
  ASSERT_FALSE(allowed.empty());
  absl::StatusOr<Configuration> c = parse_configuration(
      "spec:\n  ringside:\n    dataplane:\n      cpus: [" + std::to_string(allowed[0]) + "]\n");
  ASSERT_TRUE(c.ok()) << c.status();
  Options o;
  ASSERT_TRUE(apply_dataplane_config(c->dataplane, &o).ok());
  EXPECT_EQ(o.cpus, std::vector<int>{allowed[0]});
  EXPECT_EQ(o.shards, 1);

  absl::StatusOr<Configuration> bad = parse_configuration("spec:\n  ringside:\n    dataplane:\n      cpus: \"9999\"\n");
  ASSERT_TRUE(bad.ok()) << bad.status();
  Options o2;
  absl::Status s = apply_dataplane_config(bad->dataplane, &o2);
  EXPECT_NE(s.message().find("spec.ringside.dataplane.cpus: CPU 9999 is not in this process's allowed set"),
            std::string::npos)
      << s;
  EXPECT_EQ(error_of("spec:\n  ringside:\n    dataplane:\n      cpus: \"x\"\n"),
            "spec.ringside.dataplane.cpus: \"x\" is not a CPU list (e.g. 0-1 or 0,2,4-5)");
  EXPECT_EQ(error_of("spec:\n  ringside:\n    dataplane:\n      ringEntries: 2\n"),
            "spec.ringside.dataplane.ringEntries: \"2\" is not an integer in [8, 32768]");
}

TEST_F(ConfigurationTest, LoadFileReportsPathAndMissingFile) {
  testing::TempDir dir;
  std::string path = dir.write("c.yaml", "spec:\n  nameResolution:\n    component: nope\n");
  absl::StatusOr<Configuration> c = load_configuration(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path + ": spec.nameResolution.component: \"nope\" is not supported by ringside (sqlite, static, mdns, kubernetes, nameformat, consul, etcd)");
  EXPECT_FALSE(load_configuration(dir.file("missing.yaml")).ok());
}

}  // namespace
}  // namespace ringside::config
