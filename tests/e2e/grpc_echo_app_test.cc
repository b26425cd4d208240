// The gRPC test app on its own, no sidecar: the behaviour the sidecar tests rely on is the
// app's, so a failure there points at the sidecar and not at the app.
#include <gtest/gtest.h>

#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "dapr/proto/runtime/v1/appcallback.grpc.pb.h"
#include "tests/e2e/grpc_helpers.h"

namespace ringside::e2e {
namespace {

namespace common = dapr::proto::common::v1;
namespace runtime = dapr::proto::runtime::v1;

class GrpcEchoAppTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    auto app = StartGrpcEchoApp(*dir_, &port_);
    start_status_ = new absl::Status(app.status());
    if (app.ok()) app_ = app->release();
  }
  static void TearDownTestSuite() {
    delete app_;
    delete dir_;
    delete start_status_;
  }
  void SetUp() override {
    ASSERT_TRUE(start_status_->ok()) << *start_status_;
    stub_ = testpb::Echo::NewStub(LocalChannel(port_));
  }
  void TearDown() override {
    if (HasFailure() && app_ != nullptr) std::cerr << app_->LogTail();
  }
  testpb::StatsResponse Stats() {
    grpc::ClientContext context;
    SetTimeout(&context, 5s);
    testpb::StatsResponse stats;
    EXPECT_TRUE(stub_->Stats(&context, testpb::StatsRequest(), &stats).ok());
    return stats;
  }

  static TempDir* dir_;
  static ChildProcess* app_;
  static uint16_t port_;
  static absl::Status* start_status_;
  std::unique_ptr<testpb::Echo::Stub> stub_;
};

TempDir* GrpcEchoAppTest::dir_ = nullptr;
ChildProcess* GrpcEchoAppTest::app_ = nullptr;
uint16_t GrpcEchoAppTest::port_ = 0;
absl::Status* GrpcEchoAppTest::start_status_ = nullptr;

TEST_F(GrpcEchoAppTest, UnaryEchoesTextPayloadMetadataHeadersAndTrailers) {
  grpc::ClientContext context;
  SetTimeout(&context, 10s);
  context.AddMetadata("x-client", "hello");
  testpb::EchoRequest request;
  request.set_text("hi");
  request.set_payload(RandomBytes(1000, 1));
  request.set_echo_metadata(true);
  (*request.mutable_response_headers())["x-resp-header"] = "h";
  (*request.mutable_response_trailers())["x-resp-trailer"] = "t";
  testpb::EchoResponse response;
  const grpc::Status status = stub_->Unary(&context, request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.text(), "hi");
  EXPECT_EQ(response.payload(), request.payload());
  EXPECT_EQ(MetadataValues(response.metadata(), "x-client"), std::vector<std::string>{"hello"});
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "x-resp-header"), std::vector<std::string>{"h"});
  EXPECT_EQ(MetadataValues(context.GetServerTrailingMetadata(), "x-resp-trailer"), std::vector<std::string>{"t"});
  const auto stats = Stats();
  EXPECT_EQ(stats.last_method(), "/ringside.test.v1.Echo/Unary");
  EXPECT_EQ(MetadataValues(stats.last_metadata(), "x-client"), std::vector<std::string>{"hello"});
  EXPECT_GT(stats.last_deadline_ms(), 0);
}

TEST_F(GrpcEchoAppTest, ClientServerAndBidiStreams) {
  {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    testpb::EchoResponse response;
    auto writer = stub_->ClientStream(&context, &response);
    for (int i = 0; i < 3; ++i) {
      testpb::EchoRequest request;
      request.set_text(absl::StrCat(i));
      request.set_payload("xy");
      ASSERT_TRUE(writer->Write(request));
    }
    ASSERT_TRUE(writer->WritesDone());
    const grpc::Status status = writer->Finish();
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.text(), "012");
    EXPECT_EQ(response.messages(), 3);
    EXPECT_EQ(response.payload_bytes(), 6);
  }
  {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    testpb::EchoRequest request;
    request.set_text("s");
    request.set_count(4);
    auto reader = stub_->ServerStream(&context, request);
    testpb::EchoResponse response;
    int64_t next = 0;
    while (reader->Read(&response)) EXPECT_EQ(response.seq(), next++);
    EXPECT_EQ(next, 4);
    EXPECT_TRUE(reader->Finish().ok());
  }
  {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    auto stream = stub_->Bidi(&context);
    for (int i = 0; i < 5; ++i) {
      testpb::EchoRequest request;
      request.set_seq(i);
      ASSERT_TRUE(stream->Write(request));
      testpb::EchoResponse response;
      ASSERT_TRUE(stream->Read(&response));
      EXPECT_EQ(response.seq(), i);
    }
    ASSERT_TRUE(stream->WritesDone());
    EXPECT_TRUE(stream->Finish().ok());
  }
}

TEST_F(GrpcEchoAppTest, RequestedStatusCarriesDetails) {
  grpc::ClientContext context;
  SetTimeout(&context, 10s);
  testpb::EchoRequest request;
  request.mutable_status()->set_code(grpc::StatusCode::FAILED_PRECONDITION);
  request.mutable_status()->set_message("not now");
  testpb::EchoDetail detail;
  detail.set_text("why");
  request.mutable_status()->add_details()->PackFrom(detail);
  testpb::EchoResponse response;
  const grpc::Status status = stub_->Unary(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "not now");
  const auto details = StatusDetails(status);
  ASSERT_TRUE(details.has_value());
  ASSERT_EQ(details->details_size(), 1);
  testpb::EchoDetail got;
  ASSERT_TRUE(details->details(0).UnpackTo(&got));
  EXPECT_EQ(got.text(), "why");
}

TEST_F(GrpcEchoAppTest, CancelledBidiIsCounted) {
  const int64_t before = Stats().cancelled_calls();
  grpc::ClientContext context;
  SetTimeout(&context, 10s);
  auto stream = stub_->Bidi(&context);
  testpb::EchoRequest request;
  ASSERT_TRUE(stream->Write(request));
  testpb::EchoResponse response;
  ASSERT_TRUE(stream->Read(&response));
  context.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  testpb::StatsResponse stats;
  for (int i = 0; i < 100; ++i) {
    stats = Stats();
    if (stats.cancelled_calls() > before) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(stats.cancelled_calls(), before + 1);
}

TEST_F(GrpcEchoAppTest, OnInvokeEchoesAndFailsOnRequest) {
  auto stub = runtime::AppCallback::NewStub(LocalChannel(port_));
  {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    common::InvokeRequest request;
    request.set_method("hello");
    request.set_content_type("text/plain");
    request.mutable_data()->set_value("body");
    request.mutable_http_extension()->set_verb(common::HTTPExtension::PUT);
    request.mutable_http_extension()->set_querystring("q=1");
    common::InvokeResponse response;
    const grpc::Status status = stub->OnInvoke(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    EXPECT_EQ(response.data().value(), "body");
    EXPECT_EQ(response.content_type(), "text/plain");
    EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "x-app-header"),
              std::vector<std::string>{"on-invoke"});
    EXPECT_EQ(MetadataValues(context.GetServerTrailingMetadata(), "x-app-trailer"),
              std::vector<std::string>{"on-invoke"});
    const auto stats = Stats();
    EXPECT_EQ(stats.last_invoke_method(), "hello");
    EXPECT_EQ(stats.last_invoke_verb(), "PUT");
    EXPECT_EQ(stats.last_invoke_querystring(), "q=1");
  }
  {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    common::InvokeRequest request;
    request.set_method("status/5");
    common::InvokeResponse response;
    const grpc::Status status = stub->OnInvoke(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(status.error_message(), "status 5");
    const auto details = StatusDetails(status);
    ASSERT_TRUE(details.has_value());
    ASSERT_EQ(details->details_size(), 1);
  }
  auto health = runtime::AppCallbackHealthCheck::NewStub(LocalChannel(port_));
  grpc::ClientContext context;
  SetTimeout(&context, 10s);
  runtime::HealthCheckResponse response;
  EXPECT_TRUE(health->HealthCheck(&context, google::protobuf::Empty(), &response).ok());
}

}  // namespace
}  // namespace ringside::e2e
