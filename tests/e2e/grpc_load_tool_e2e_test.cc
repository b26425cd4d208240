// ringside-grpc-load against real processes: the gRPC test app directly (unary and
// client-stream), one sidecar in front of it (dapr-app-id proxying and InvokeService), and
// nothing at all. Asserts what a user of the tool sees: its exit code and its summary.
// The test process itself never starts gRPC: the tool runs as a child.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/grpc_helpers.h"

namespace ringside::e2e {
namespace {

// How one run of the tool ended.
struct ToolRun {
  int exit_code = -1;  // -1: did not end in time (then it was killed)
  std::string output;  // stdout and stderr
};

class GrpcLoadToolE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(BinaryExists("ringside-grpc-load")) << BinPath("ringside-grpc-load") << " is not built";
  }
  void TearDown() override {
    if (!HasFailure()) return;
    if (app_) std::cerr << "--- gRPC echo app log:\n" << app_->LogTail(1500) << "\n";
    if (sidecar_.process) std::cerr << "--- sidecar log:\n" << sidecar_.process->LogTail() << "\n";
  }
  void StartApp() {
    auto app = StartGrpcEchoApp(dir_, &app_port_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = std::move(*app);
  }
  // Sidecar "b" in front of the app, as a gRPC app (AppCallback for InvokeService).
  void StartSidecarForApp() {
    SidecarOptions options{.app_id = "b", .nr_db = dir_.File("nr.db"),
                           .extra_args = {"--app-port", absl::StrCat(app_port_), "--app-protocol", "grpc"}};
    auto sidecar = StartSidecar(options, dir_);
    ASSERT_TRUE(sidecar.ok()) << sidecar.status();
    sidecar_ = std::move(*sidecar);
  }
  ToolRun RunTool(const std::vector<std::string>& args) {
    ToolRun run;
    auto tool = ChildProcess::Spawn(BinPath("ringside-grpc-load"), args, {},
                                    dir_.File(absl::StrCat("grpc-load-", ++runs_, ".log")));
    if (!tool.ok()) {
      run.output = std::string(tool.status().message());
      return run;
    }
    if (auto code = (*tool)->WaitExit(90s)) run.exit_code = *code;
    run.output = (*tool)->Log();
    return run;
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> app_;
  uint16_t app_port_ = 0;
  Sidecar sidecar_;
  int runs_ = 0;  // numbers the tool's log files
};

constexpr const char* kFiftyAnswered = "requests     50 answered, 0 errors, 0 not sent";

TEST_F(GrpcLoadToolE2eTest, UnaryCallsStraightToTheAppAreAllAnswered) {
  ASSERT_NO_FATAL_FAILURE(StartApp());
  const ToolRun run = RunTool({"--target", absl::StrCat("127.0.0.1:", app_port_), "-n", "50", "-c", "2"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find(kFiftyAnswered), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("latency us   p50 "), std::string::npos) << run.output;
}

TEST_F(GrpcLoadToolE2eTest, ClientStreamReportsMibPerSecond) {
  ASSERT_NO_FATAL_FAILURE(StartApp());
  // 1 MB is not a whole number of 64 KiB messages: the last message carries the rest.
  const ToolRun run = RunTool({"--target", absl::StrCat("127.0.0.1:", app_port_), "--mode", "client-stream",
                               "-n", "3", "--total-bytes", "1000000", "--message-size", "64Ki"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("requests     3 answered, 0 errors, 0 not sent"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("stream MiB/s "), std::string::npos) << run.output;
}

TEST_F(GrpcLoadToolE2eTest, ProxiedAndInvokeServiceCallsThroughASidecarAreAllAnswered) {
  ASSERT_NO_FATAL_FAILURE(StartApp());
  ASSERT_NO_FATAL_FAILURE(StartSidecarForApp());
  // The sidecar's own app id: proxied to (and InvokeService delivered to) its own gRPC app.
  const std::string target = absl::StrCat("127.0.0.1:", sidecar_.ports.grpc);
  const ToolRun proxied = RunTool({"--target", target, "--app-id", "b", "-n", "50"});
  EXPECT_EQ(proxied.exit_code, 0) << proxied.output;
  EXPECT_NE(proxied.output.find(kFiftyAnswered), std::string::npos) << proxied.output;
  const ToolRun invoked = RunTool({"--target", target, "--mode", "invoke-service", "--app-id", "b", "-n", "50"});
  EXPECT_EQ(invoked.exit_code, 0) << invoked.output;
  EXPECT_NE(invoked.output.find(kFiftyAnswered), std::string::npos) << invoked.output;
}

TEST_F(GrpcLoadToolE2eTest, NothingListeningFailsWithExitOne) {
  const ToolRun run = RunTool({"--target", absl::StrCat("127.0.0.1:", PickFreePort()), "-n", "5", "--timeout", "10"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("cannot connect"), std::string::npos) << run.output;
}

TEST_F(GrpcLoadToolE2eTest, BadFlagFailsWithExitTwo) {
  const ToolRun run = RunTool({"--target", "127.0.0.1:1", "--mode", "sideways"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--mode"), std::string::npos) << run.output;
}

TEST_F(GrpcLoadToolE2eTest, HelpListsTheFlags) {
  const ToolRun run = RunTool({"--help"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* flag : {"--target", "--mode", "--app-id", "-n", "-c", "--body-size", "--total-bytes",
                           "--message-size", "--timeout"}) {
    EXPECT_NE(run.output.find(flag), std::string::npos) << flag << " missing from:\n" << run.output;
  }
}

}  // namespace
}  // namespace ringside::e2e
