// Cluster strategies on the transparent gRPC proxy (dapr-app-id on a's gRPC port): the proxy
// picks through the same strategy filter as HTTP invocations. The gRPC test app behind callee b
// is tagged "west" in caller a's static list; a is in "east".
//   - external-only proxies to it (and counts an external pick);
//   - local-only refuses with code UNKNOWN and the message naming the strategy, like the
//     proxy's "no host found" answer, without reaching the app.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

class ClusterStrategyGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto app = StartGrpcEchoApp(dir_, &app_port_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = std::move(*app);
    auto b = StartSidecar({.app_id = "b", .nr_db = dir_.File("b.db"),
                           .extra_args = {"--app-port", absl::StrCat(app_port_), "--app-protocol", "grpc"}},
                          dir_);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = std::move(*b);
  }
  void TearDown() override {
    if (!HasFailure()) return;
    if (a_.process) std::cerr << "--- sidecar a:\n" << a_.process->LogTail() << "\n";
    if (b_.process) std::cerr << "--- callee b:\n" << b_.process->LogTail() << "\n";
  }
  void StartCaller(const std::string& strategy) {
    const std::string config = dir_.File("a.yaml");
    std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: a}\n"
                             "spec:\n  nameResolution:\n    component: static\n    configuration:\n      apps:\n"
                          << "        - {appId: b, address: \"127.0.0.1:" << b_.ports.internal << "\", cluster: west}\n"
                          << "  ringside:\n    multiCluster:\n      cluster: east\n      strategy: " << strategy << "\n";
    auto a = StartSidecar({.app_id = "a", .nr_db = dir_.File("a.db"), .extra_args = {"--config", config}}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    stub_ = testpb::Echo::NewStub(LocalChannel(a_.ports.grpc));
  }
  // Calls the gRPC app has seen, asked directly (Stats itself is not counted before it answers).
  int64_t AppCalls() {
    auto stub = testpb::Echo::NewStub(LocalChannel(app_port_));
    grpc::ClientContext context;
    SetTimeout(&context, 5s);
    testpb::StatsResponse stats;
    const grpc::Status status = stub->Stats(&context, testpb::StatsRequest(), &stats);
    return status.ok() ? stats.calls() : -1;
  }
  grpc::Status Unary(testpb::EchoResponse* response) {
    grpc::ClientContext context;
    PrepareProxyCall(&context, "b");
    testpb::EchoRequest request;
    request.set_text("across");
    return stub_->Unary(&context, request, response);
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> app_;
  uint16_t app_port_ = 0;
  Sidecar b_;
  Sidecar a_;
  std::unique_ptr<testpb::Echo::Stub> stub_;
};

TEST_F(ClusterStrategyGrpcTest, ExternalOnlyProxiesToTheOtherCluster) {
  ASSERT_NO_FATAL_FAILURE(StartCaller("external-only"));
  testpb::EchoResponse response;
  const grpc::Status status = Unary(&response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.text(), "across");
  EXPECT_EQ(ReadMetric(a_.ports.metrics, "ringside_cluster_picks_external_total").value_or(-1), 1);
  EXPECT_EQ(AppCalls(), 1);  // the signal the refusal test relies on
}

TEST_F(ClusterStrategyGrpcTest, LocalOnlyRefusesWithTheStrategyInTheMessage) {
  ASSERT_NO_FATAL_FAILURE(StartCaller("local-only"));
  testpb::EchoResponse response;
  const grpc::Status status = Unary(&response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN) << Describe(status);
  EXPECT_EQ(status.error_message(),
            "failed to proxy request: no usable instance of app id b in the local cluster \"east\" "
            "(cluster strategy local-only)");
  EXPECT_EQ(AppCalls(), 0) << "the app was reached";
}

}  // namespace
}  // namespace ringside::e2e
