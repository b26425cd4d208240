// Process lifecycle of ringsided: flag and config errors, busy ports, SIGTERM, registry rows,
// name resolution configured by a Configuration YAML (spec §7.2, §7.3, §8).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  // Runs ringsided with `args` (plus RINGSIDE_NR_SQLITE in our temp dir); returns its exit code.
  std::optional<int> RunToExit(const std::vector<std::string>& args, std::chrono::milliseconds bound,
                               std::string* log) {
    auto p = ChildProcess::Spawn(BinPath("ringsided"), args, {"RINGSIDE_NR_SQLITE=" + dir_.File("nr.db")},
                                 dir_.File(absl::StrCat("run-", ++runs_, ".log")));
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return std::nullopt;
    auto code = (*p)->WaitExit(bound);
    *log = (*p)->Log();
    return code;
  }

  std::vector<std::string> PortArgs() {
    return {"--dapr-http-port", absl::StrCat(PickFreePort()), "--dapr-grpc-port", absl::StrCat(PickFreePort()),
            "--dapr-internal-grpc-port", absl::StrCat(PickFreePort()), "--metrics-port",
            absl::StrCat(PickFreePort()), "--shards", "1"};
  }

  TempDir dir_;
  int runs_ = 0;
};

TEST_F(LifecycleTest, UnknownFlagExits2NamingTheFlag) {
  std::vector<std::string> args = {"--app-id", "x", "--no-such-flag", "1"};
  for (auto& a : PortArgs()) args.push_back(a);
  std::string log;
  EXPECT_EQ(RunToExit(args, 10s, &log), std::optional<int>(2)) << log;
  EXPECT_NE(log.find("no-such-flag"), std::string::npos) << log;
}

TEST_F(LifecycleTest, BadFlagValueExits2NamingTheFlag) {
  std::vector<std::string> args = {"--app-id", "x", "--dapr-http-port", "not-a-port", "--shards", "1"};
  std::string log;
  EXPECT_EQ(RunToExit(args, 10s, &log), std::optional<int>(2)) << log;
  EXPECT_NE(log.find("dapr-http-port"), std::string::npos) << log;
}

TEST_F(LifecycleTest, AppIdWithDotExits2) {
  std::vector<std::string> args = {"--app-id", "has.dot"};
  for (auto& a : PortArgs()) args.push_back(a);
  std::string log;
  EXPECT_EQ(RunToExit(args, 10s, &log), std::optional<int>(2)) << log;
  EXPECT_NE(log.find("app-id"), std::string::npos) << log;
}

TEST_F(LifecycleTest, MissingConfigFileExits2NamingTheFile) {
  const std::string missing = dir_.File("does-not-exist.yaml");
  std::vector<std::string> args = {"--app-id", "x", "--config", missing};
  for (auto& a : PortArgs()) args.push_back(a);
  std::string log;
  EXPECT_EQ(RunToExit(args, 10s, &log), std::optional<int>(2)) << log;
  EXPECT_NE(log.find(missing), std::string::npos) << log;
}

TEST_F(LifecycleTest, MalformedConfigFileExits2NamingTheFile) {
  const std::string path = dir_.File("broken.yaml");
  std::ofstream(path) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec: [unclosed\n";
  std::vector<std::string> args = {"--app-id", "x", "--config", path};
  for (auto& a : PortArgs()) args.push_back(a);
  std::string log;
  EXPECT_EQ(RunToExit(args, 10s, &log), std::optional<int>(2)) << log;
  EXPECT_NE(log.find(path), std::string::npos) << log;
}

TEST_F(LifecycleTest, HttpPortInUseExits1NamingThePort) {
  // Hold the port with a plain listener (no SO_REUSEPORT, so nobody can share it).
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder, 4), 0);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t busy = ntohs(addr.sin_port);

  std::vector<std::string> args = {"--app-id", "x", "--dapr-http-port", absl::StrCat(busy),
                                   "--dapr-grpc-port", absl::StrCat(PickFreePort()),
                                   "--dapr-internal-grpc-port", absl::StrCat(PickFreePort()),
                                   "--metrics-port", absl::StrCat(PickFreePort()), "--shards", "1"};
  std::string log;
  EXPECT_EQ(RunToExit(args, 10s, &log), std::optional<int>(1)) << log;
  EXPECT_NE(log.find(absl::StrCat(busy)), std::string::npos) << log;
  ::close(holder);
}

TEST_F(LifecycleTest, SigtermExitsZeroAndRemovesTheRegistryRow) {
  const std::string db = dir_.File("nr.db");
  auto s = StartSidecar({.app_id = "leaver", .nr_db = db}, dir_);
  ASSERT_TRUE(s.ok()) << s.status();
  int rows = -1;
  for (int i = 0; i < 100 && rows != 1; ++i) {  // registered within ~1 s; bound 5 s
    rows = CountRegistryRows(db, "leaver");
    if (rows != 1) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(rows, 1) << "no registry row for the running sidecar";
  s->process->Signal(SIGTERM);
  EXPECT_EQ(s->process->WaitExit(10s), std::optional<int>(0)) << s->process->LogTail();
  EXPECT_EQ(CountRegistryRows(db, "leaver"), 0);
}

TEST_F(LifecycleTest, ConfigurationYamlSelectsTheSqliteRegistryFile) {
  const std::string db = dir_.File("from-config.db");
  const std::string config = dir_.File("config.yaml");
  std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\n"
                           "kind: Configuration\n"
                           "metadata: {name: ringside}\n"
                           "spec:\n"
                           "  nameResolution:\n"
                           "    component: sqlite\n"
                           "    configuration: {connectionString: " << db << "}\n";
  uint16_t app_port = 0;
  auto app = StartEchoApp(dir_, &app_port);
  ASSERT_TRUE(app.ok()) << app.status();
  // No RINGSIDE_NR_SQLITE here: the Configuration alone must put both sidecars in one registry.
  auto b = StartSidecar({.app_id = "cb", .app_port = app_port, .extra_args = {"--config", config}}, dir_);
  ASSERT_TRUE(b.ok()) << b.status();
  auto a = StartSidecar({.app_id = "ca", .extra_args = {"--config", config}}, dir_);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(WaitUntilInvocable(a->ports.http, "cb", 15s)) << a->process->LogTail();
  EXPECT_EQ(CountRegistryRows(db, "cb"), 1);
  EXPECT_EQ(CountRegistryRows(db, "ca"), 1);
}

}  // namespace
}  // namespace ringside::e2e
