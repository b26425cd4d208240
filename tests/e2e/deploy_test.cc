// Deployment: --print-layout prints where each thread runs and exits 0 (flags and the
// spec.ringside.dataplane section agree with what the sidecar would pin), and the shipped
// systemd unit's command line (examples/systemd/ringsided.service) starts a sidecar that serves.
#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Threads of `pid` named `prefix`* (from /proc/<pid>/task/*/comm) with their CPU list.
std::vector<std::pair<std::string, std::string>> ThreadsNamed(pid_t pid, const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string task_dir = absl::StrCat("/proc/", pid, "/task");
  for (const auto& entry : std::filesystem::directory_iterator(task_dir)) {
    std::string comm = ReadText(entry.path().string() + "/comm");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (comm.rfind(prefix, 0) != 0) continue;
    std::istringstream status(ReadText(entry.path().string() + "/status"));
    std::string cpus;
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Cpus_allowed_list:", 0) == 0) cpus = line.substr(line.find_first_not_of(" \t", 18));
    out.emplace_back(comm, cpus);
  }
  return out;
}

// Runs ringsided with `args` to completion; returns {exit code, output}.
std::pair<int, std::string> RunToExit(const TempDir& dir, const std::string& name, std::vector<std::string> args) {
  auto p = ChildProcess::Spawn(BinPath("ringsided"), args, {"RINGSIDE_NR_SQLITE=" + dir.File("nr.db")},
                               dir.File(name + ".log"));
  if (!p.ok()) return {-1, std::string(p.status().message())};
  std::optional<int> rc = (*p)->WaitExit(10s);
  return {rc.value_or(-1), (*p)->Log()};
}

TEST(DeployTest, PrintLayoutShowsEachThreadsCpuAndExits) {
  TempDir dir;
  const std::vector<int> allowed = AllowedCpus();
  ASSERT_FALSE(allowed.empty());
  const std::string cpu = absl::StrCat(allowed.back());
  auto [rc, out] = RunToExit(dir, "flags", {"--app-id", "a", "--cpus", cpu, "--sqpoll", "--sqpoll-cpus",
                                            absl::StrCat(allowed.front()), "--busy-poll-us", "50", "--print-layout"});
  std::cout << out;
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("shard-0         cpu ", cpu, " ")) &&
              absl::StrContains(out, "busy-poll 50us")) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("sqpoll-0        cpu ", allowed.front(), " "))) << out;
  EXPECT_TRUE(absl::StrContains(out, "control-plane ")) << out;
  EXPECT_TRUE(absl::StrContains(out, "metrics ")) << out;
  EXPECT_FALSE(absl::StrContains(out, "shard-1")) << out;

  // The Configuration's dataplane section, and a flag winning over it.
  const std::string config = dir.File("config.yaml");
  std::ofstream(config) << "spec:\n  ringside:\n    dataplane:\n      shards: 2\n      busyPollUs: 20\n"
                           "      sqpoll: {shared: true, cpus: [" << allowed.front() << "]}\n";
  std::tie(rc, out) = RunToExit(dir, "file", {"--app-id", "a", "--config", config, "--busy-poll-us", "30", "--print-layout"});
  std::cout << out;
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "shard-1 ")) << out;
  EXPECT_TRUE(absl::StrContains(out, "busy-poll 30us")) << out;  // the flag wins
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("sqpoll-shared   cpu ", allowed.front(), " "))) << out;

  // A bad section: exit 2 with the YAML path.
  std::ofstream(config) << "spec:\n  ringside:\n    dataplane:\n      sqpoll: {idle: 5}\n";
  std::tie(rc, out) = RunToExit(dir, "bad", {"--app-id", "a", "--config", config, "--print-layout"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "spec.ringside.dataplane.sqpoll.idle: unknown key")) << out;
}

// The unit's ExecStart is taken as written. Substituted (the test must own them): the binary
// path (build/bin/ringsided), --app-port (an echo app the test starts), --dapr-http-port,
// --dapr-grpc-port, --metrics-port (free ports), --config (a copy of examples/systemd/config.yaml
// in a temp dir), --cpus (the unit's 2-3 replaced by the CPUs this test may use) and
// RINGSIDE_NR_SQLITE (a temp file). Every other argument is passed unchanged.
TEST(DeployTest, SystemdUnitCommandLineServesAnInvocation) {
  const std::string unit = ReadText(std::string(RINGSIDE_SOURCE_DIR) + "/examples/systemd/ringsided.service");
  ASSERT_FALSE(unit.empty()) << "cannot read examples/systemd/ringsided.service";
  for (const char* needed : {"\nLimitMEMLOCK=", "\nLimitNOFILE=", "\nRestart=on-failure", "\nCPUAffinity="})
    EXPECT_TRUE(absl::StrContains(unit, needed)) << "the unit lacks " << needed;
  std::string exec;
  std::istringstream lines(unit);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("ExecStart=", 0) == 0) exec = line.substr(10);
  ASSERT_FALSE(exec.empty()) << "no ExecStart= line";
  std::vector<std::string> words = absl::StrSplit(exec, ' ', absl::SkipEmpty());
  ASSERT_TRUE(words[0].size() >= 10 && words[0].substr(words[0].size() - 10) == "/ringsided") << exec;

  TempDir dir;
  uint16_t app_port = 0;
  auto app = StartEchoApp(dir, &app_port);
  ASSERT_TRUE(app.ok()) << app.status();
  const std::string config = dir.File("config.yaml");
  {
    const std::string example = ReadText(std::string(RINGSIDE_SOURCE_DIR) + "/examples/systemd/config.yaml");
    ASSERT_FALSE(example.empty());
    std::ofstream(config) << example;
  }
  std::string allowed;
  for (int c : AllowedCpus()) absl::StrAppend(&allowed, allowed.empty() ? "" : ",", c);
  const uint16_t http = PickFreePort(), grpc = PickFreePort(), metrics = PickFreePort();
  std::string app_id;
  std::vector<std::string> args;
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    args.push_back(w);
    if (i + 1 >= words.size()) continue;
    std::string value = words[i + 1];
    if (w == "--app-port") value = absl::StrCat(app_port);
    if (w == "--dapr-http-port") value = absl::StrCat(http);
    if (w == "--dapr-grpc-port") value = absl::StrCat(grpc);
    if (w == "--metrics-port") value = absl::StrCat(metrics);
    if (w == "--config") value = config;
    if (w == "--cpus") value = allowed;
    if (w == "--app-id") app_id = value;
    if (w.rfind("--", 0) == 0) {
      args.push_back(value);
      ++i;
    }
  }
  ASSERT_FALSE(app_id.empty()) << exec;
  std::cout << "ringsided";
  for (const auto& a : args) std::cout << " " << a;
  std::cout << "\n";
  auto sidecar = ChildProcess::Spawn(BinPath("ringsided"), args, {"RINGSIDE_NR_SQLITE=" + dir.File("nr.db")},
                                     dir.File("unit.log"));
  ASSERT_TRUE(sidecar.ok()) << sidecar.status();
  ASSERT_TRUE(WaitUntilInvocable(http, app_id, 15s)) << (*sidecar)->LogTail();
  auto reply = Invoke(http, "POST", app_id, "echo", "hello from systemd");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->status(), 200);
  EXPECT_EQ(reply->body, "hello from systemd");
  (*sidecar)->Signal(SIGTERM);  // systemctl stop
  EXPECT_EQ((*sidecar)->WaitExit(20s), 0) << (*sidecar)->LogTail();
}

// One SQPOLL poller shared by both shards (ATTACH_WQ) versus one per shard, with busy-poll on:
// both serve invocations, the kernel shows 1 resp. 2 poller threads, and the shards run on the
// CPUs --print-layout names.
TEST(DeployTest, SharedSqpollAndBusyPollServeWithTheLayoutPrinted) {
  TempDir dir;
  uint16_t app_port = 0;
  auto app = StartEchoApp(dir, &app_port);
  ASSERT_TRUE(app.ok()) << app.status();
  const std::vector<int> allowed = AllowedCpus();
  ASSERT_FALSE(allowed.empty());
  std::string cpus = absl::StrCat(allowed.front());
  if (allowed.size() > 1) absl::StrAppend(&cpus, ",", allowed[1]);
  for (bool shared : {true, false}) {
    std::vector<std::string> extra = {"--cpus", cpus, "--sqpoll", "--busy-poll-us", "50"};
    if (shared) extra.push_back("--sqpoll-shared");
    auto layout_args = extra;
    for (auto a : {"--app-id", "b", "--print-layout"}) layout_args.push_back(a);
    auto [rc, layout] = RunToExit(dir, shared ? "layout-shared" : "layout-own", layout_args);
    std::cout << layout;
    ASSERT_EQ(rc, 0) << layout;
    // Spawned directly: the harness's StartSidecar adds --shards, which would fight --cpus.
    const uint16_t http = PickFreePort();
    std::vector<std::string> args = {"--app-id", "b", "--app-port", absl::StrCat(app_port), "--dapr-http-port",
                                     absl::StrCat(http), "--dapr-grpc-port", absl::StrCat(PickFreePort()),
                                     "--enable-metrics=false"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto process = ChildProcess::Spawn(BinPath("ringsided"), args, {"RINGSIDE_NR_SQLITE=" + dir.File("nr.db")},
                                       dir.File(shared ? "shared.log" : "own.log"));
    ASSERT_TRUE(process.ok()) << process.status();
    ChildProcess& b = **process;
    ASSERT_TRUE(WaitUntilInvocable(http, "b", 15s)) << b.LogTail();
    for (int i = 0; i < 20; ++i) {
      auto reply = Invoke(http, "POST", "b", "echo", absl::StrCat("call ", i));
      ASSERT_TRUE(reply.ok()) << reply.status();
      ASSERT_EQ(reply->status(), 200);
      ASSERT_EQ(reply->body, absl::StrCat("call ", i));
    }
    const auto pollers = ThreadsNamed(b.pid(), "iou-sqp");
    const auto shards = ThreadsNamed(b.pid(), "shard-");
    std::cout << (shared ? "shared" : "per shard") << ": " << pollers.size() << " SQPOLL thread(s), "
              << shards.size() << " shard thread(s)\n";
    EXPECT_EQ(pollers.size(), shared ? 1u : shards.size());
    for (const auto& [name, allowed_list] : shards) {
      // "shard-0" → the layout line "shard-0         cpu <n> "
      EXPECT_TRUE(absl::StrContains(layout, absl::StrCat(name, std::string(16 - name.size(), ' '), "cpu ", allowed_list, " ")))
          << name << " runs on " << allowed_list << "\n" << layout;
    }
    b.Signal(SIGTERM);
    EXPECT_EQ(b.WaitExit(20s), 0) << b.LogTail();
  }
}

}  // namespace
}  // namespace ringside::e2e
