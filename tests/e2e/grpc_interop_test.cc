// A real gRPC C++ client (generated code) talks to a sidecar's internal port: CallLocal is what
// stock daprd peers send (spec §2.1, §2.2, §2.4).
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "dapr/proto/internals/v1/service_invocation.grpc.pb.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

namespace internals = dapr::proto::internals::v1;

// Only the callee side is needed: echo app and sidecar b; the test is b's gRPC peer.
struct Callee {
  TempDir dir;                         // logs and registry
  std::unique_ptr<ChildProcess> app;   // ringside-echo-app
  Sidecar b;                           // --app-id b in front of the app
  absl::Status Start() {
    uint16_t app_port = 0;
    auto started_app = StartEchoApp(dir, &app_port);
    if (!started_app.ok()) return started_app.status();
    app = std::move(*started_app);
    auto started_b = StartSidecar({.app_id = "b", .app_port = app_port, .nr_db = dir.File("nr.db")}, dir);
    if (!started_b.ok()) return started_b.status();
    b = std::move(*started_b);
    return absl::OkStatus();
  }
};

class GrpcInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    callee_ = new Callee;
    start_status_ = new absl::Status(callee_->Start());
  }
  static void TearDownTestSuite() {
    delete callee_;
    delete start_status_;
  }
  void SetUp() override { ASSERT_TRUE(start_status_->ok()) << *start_status_; }
  void TearDown() override {
    if (HasFailure() && start_status_->ok()) std::cerr << callee_->b.process->LogTail();
  }
  static std::shared_ptr<grpc::Channel> ChannelToB() {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", callee_->b.ports.internal),
                               grpc::InsecureChannelCredentials());
  }

  static Callee* callee_;
  static absl::Status* start_status_;
};

Callee* GrpcInteropTest::callee_ = nullptr;
absl::Status* GrpcInteropTest::start_status_ = nullptr;

internals::InternalInvokeRequest EchoRequest(const std::string& body) {
  internals::InternalInvokeRequest req;
  req.set_ver(internals::V1);
  (*req.mutable_metadata())["content-type"].add_values("text/plain");
  (*req.mutable_metadata())["x-interop"].add_values("grpc-client");
  auto* message = req.mutable_message();
  message->set_method("echo");
  message->mutable_data()->set_value(body);
  message->set_content_type("text/plain");
  message->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::POST);
  return req;
}

TEST_F(GrpcInteropTest, CallLocalOnInternalPortReachesTheApp) {
  auto stub = internals::ServiceInvocation::NewStub(ChannelToB());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  internals::InternalInvokeResponse resp;
  const grpc::Status status = stub->CallLocal(&ctx, EchoRequest("hi"), &resp);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_EQ(resp.status().code(), 200);
  EXPECT_EQ(resp.message().data().value(), "hi");
  EXPECT_EQ(resp.message().content_type(), "text/plain");
  // App headers come back in the response metadata.
  bool saw_method = false;
  for (const auto& [key, values] : resp.headers()) {
    if (absl::AsciiStrToLower(key) == "x-echo-method") {
      saw_method = values.values_size() == 1 && values.values(0) == "POST";
    }
  }
  EXPECT_TRUE(saw_method) << resp.DebugString();
}

TEST_F(GrpcInteropTest, CallLocalPassesAppErrorStatusInsideAnOkRpc) {
  auto stub = internals::ServiceInvocation::NewStub(ChannelToB());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  auto req = EchoRequest("");
  req.mutable_message()->set_method("status/404");
  req.mutable_message()->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::GET);
  internals::InternalInvokeResponse resp;
  const grpc::Status status = stub->CallLocal(&ctx, req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_EQ(resp.status().code(), 404);
  EXPECT_EQ(resp.message().data().value(), "status 404");
}

TEST_F(GrpcInteropTest, CallerDeadlineEndsTheCallAndTheSidecarStaysUsable) {
  // A caller deadline (grpc-timeout) shorter than the app's answer: the call ends with
  // DEADLINE_EXCEEDED, the late app answer is dropped, and the connection keeps serving.
  auto stub = internals::ServiceInvocation::NewStub(ChannelToB());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 300ms);
  auto req = EchoRequest("");
  req.mutable_message()->set_method("sleep/1000");
  req.mutable_message()->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::GET);
  internals::InternalInvokeResponse resp;
  const grpc::Status status = stub->CallLocal(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  // The sidecar is still healthy afterwards: the next call succeeds.
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + 10s);
  internals::InternalInvokeResponse resp2;
  const grpc::Status status2 = stub->CallLocal(&ctx2, EchoRequest("again"), &resp2);
  ASSERT_TRUE(status2.ok()) << status2.error_message();
  EXPECT_EQ(resp2.message().data().value(), "again");
}

TEST_F(GrpcInteropTest, UnknownMethodOnInternalPortIsUnimplemented) {
  grpc::GenericStub generic(ChannelToB());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  const std::string payload = EchoRequest("x").SerializeAsString();
  grpc::Slice slice(payload);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/dapr.proto.internals.v1.ServiceInvocation/NoSuchMethod", grpc::StubOptions(),
                    &request, &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  auto result = done.get_future();
  ASSERT_EQ(result.wait_for(15s), std::future_status::ready);
  const grpc::Status status = result.get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
}

}  // namespace
}  // namespace ringside::e2e
