// spec.ringside.dataplane: core pinning, SQPOLL layout (per-shard or shared poller), busy-poll
// and ring sizes; flags given on the command line win over the file, the file over defaults;
// every bad value is an error naming its YAML path (ringsided exits 2 on it).
#include "controlplane/config/dataplane_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controlplane/config/configuration.h"

namespace ringside::config {
namespace {

std::string error_of(std::string_view dataplane_yaml) {
  DataplaneConfig dp;
  absl::Status s = parse_dataplane_yaml(dataplane_yaml, &dp);
  return s.ok() ? "ok" : std::string(s.message());
}

Options parsed_flags(std::vector<const char*> args) {
  args.insert(args.begin(), {"ringsided", "--app-id", "a"});
  Options o;
  std::string error;
  EXPECT_EQ(parse_flags(static_cast<int>(args.size()), args.data(), &o, &error), FlagsOutcome::kRun) << error;
  return o;
}

TEST(DataplaneConfig, FullSectionInTheConfigurationDocument) {
  absl::StatusOr<Configuration> c = parse_configuration(R"yaml(
apiVersion: dapr.io/v1alpha1
kind: Configuration
spec:
  ringside:
    dataplane:
      shards: 2
      sqpoll: {enabled: true, cpus: "4-5", idleMs: 20}
      busyPollUs: 50
      ringEntries: 512
      bufferSize: 8Ki
      bufferCount: 256
)yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  const DataplaneConfig& dp = c->dataplane;
  EXPECT_EQ(dp.shards, 2);
  EXPECT_EQ(dp.sqpoll, true);
  EXPECT_EQ(dp.sqpoll_cpus, (std::vector<int>{4, 5}));
  EXPECT_FALSE(dp.sqpoll_shared.has_value());
  EXPECT_EQ(dp.sqpoll_idle_ms, 20u);
  EXPECT_EQ(dp.busy_poll_us, 50u);
  EXPECT_EQ(dp.ring_entries, 512u);
  EXPECT_EQ(dp.buffer_size, 8u << 10);
  EXPECT_EQ(dp.buffer_count, 256u);

  Options o = parsed_flags({});
  ASSERT_TRUE(apply_dataplane_config(dp, &o).ok());
  EXPECT_EQ(o.shards, 2);
  EXPECT_TRUE(o.sqpoll);
  EXPECT_EQ(o.sqpoll_cpus, (std::vector<int>{4, 5}));
  EXPECT_EQ(o.sqpoll_idle_ms, 20u);
  EXPECT_EQ(o.busy_poll_us, 50u);
  EXPECT_EQ(o.ring_entries, 512u);
}

TEST(DataplaneConfig, FlagsWinOverTheFileAndTheFileOverDefaults) {
  DataplaneConfig dp;
  ASSERT_TRUE(parse_dataplane_yaml("busyPollUs: 50\nringEntries: 512\nsqpoll: {shared: true, idleMs: 5}\n", &dp).ok());
  Options o = parsed_flags({"--busy-poll-us", "7", "--sqpoll-idle-ms=9"});
  ASSERT_TRUE(apply_dataplane_config(dp, &o).ok());
  EXPECT_EQ(o.busy_poll_us, 7u);      // flag
  EXPECT_EQ(o.sqpoll_idle_ms, 9u);    // flag
  EXPECT_EQ(o.ring_entries, 512u);    // file
  EXPECT_TRUE(o.sqpoll_shared);       // file
  EXPECT_TRUE(o.sqpoll);              // a sqpoll map means enabled
  EXPECT_EQ(o.buffer_count, 1024u);   // default
  Options defaults = parsed_flags({});
  EXPECT_EQ(defaults.busy_poll_us, 0u);  // busy-poll is off by default
  EXPECT_FALSE(defaults.sqpoll);
}

TEST(DataplaneConfig, EarlierSpellingStillAccepted) {
  DataplaneConfig dp;
  ASSERT_TRUE(parse_dataplane_yaml("sqpoll: true\nsqpollCpu: 1\ncpus: [0]\n", &dp).ok());
  EXPECT_EQ(dp.sqpoll, true);
  EXPECT_EQ(dp.sqpoll_cpu, 1);
  EXPECT_EQ(dp.cpus, std::vector<int>{0});
  ASSERT_TRUE(parse_dataplane_yaml("sqpoll: {enabled: false}\n", &dp).ok());
  EXPECT_EQ(dp.sqpoll, false);
}

TEST(DataplaneConfig, ErrorsNameTheYamlPath) {
  EXPECT_EQ(error_of("speed: 11\n"),
            "spec.ringside.dataplane.speed: unknown key (expected one of: cpus, shards, sqpoll, sqpollCpu, busyPollUs, "
            "ringEntries, bufferSize, bufferCount, peerCallTimeout)");
  EXPECT_EQ(error_of("sqpoll: {cpu: 1}\n"),
            "spec.ringside.dataplane.sqpoll.cpu: unknown key (expected one of: enabled, cpus, shared, idleMs)");
  EXPECT_EQ(error_of("sqpoll: {idleMs: never}\n").rfind("spec.ringside.dataplane.sqpoll.idleMs: ", 0), 0u);
  EXPECT_EQ(error_of("sqpoll: {cpus: \"x\"}\n"),
            "spec.ringside.dataplane.sqpoll.cpus: \"x\" is not a CPU list (e.g. 0-1 or 0,2,4-5)");
  EXPECT_EQ(error_of("sqpoll: [1]\n"),
            "spec.ringside.dataplane.sqpoll: must be a map (enabled, cpus, shared, idleMs) or a boolean");
  EXPECT_EQ(error_of("busyPollUs: -1\n").rfind("spec.ringside.dataplane.busyPollUs: ", 0), 0u);
  EXPECT_EQ(error_of("cpus: [1, 1]\n"), "spec.ringside.dataplane.cpus: CPU 1 is listed twice");
  EXPECT_EQ(error_of("cpus: []\n"), "spec.ringside.dataplane.cpus: must name at least one CPU");
  EXPECT_EQ(error_of("[1]\n"), "spec.ringside.dataplane: must be a map");
  EXPECT_EQ(error_of("a: [\n").rfind("invalid YAML", 0), 0u);
}

TEST(DataplaneConfig, PollerCpusMustFitTheShards) {
  DataplaneConfig dp;
  ASSERT_TRUE(parse_dataplane_yaml("shards: 2\nsqpoll: {cpus: [3]}\n", &dp).ok());
  Options o = parsed_flags({});
  absl::Status s = apply_dataplane_config(dp, &o);
  EXPECT_EQ(s.message(),
            "spec.ringside.dataplane.sqpoll.cpus: names 1 CPU(s) but there are 2 shards (one poller CPU per shard)");
  Options flagged = parsed_flags({"--shards", "2", "--sqpoll-cpus", "1-2", "--sqpoll-shared"});
  s = apply_dataplane_config(DataplaneConfig(), &flagged);
  EXPECT_EQ(s.message(), "--sqpoll-cpus: names 2 CPU(s) but a shared poller needs exactly 1");
  Options shared = parsed_flags({"--shards", "2", "--sqpoll-cpus", "1", "--sqpoll-shared"});
  EXPECT_TRUE(apply_dataplane_config(DataplaneConfig(), &shared).ok());
}

}  // namespace
}  // namespace ringside::config
