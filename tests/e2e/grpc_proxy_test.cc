// Transparent gRPC proxying (spec §4.3, §5.9 "gRPC proxy → gRPC"): a real gRPC C++ client calls
// the test service on sidecar a's --dapr-grpc-port with `dapr-app-id: b`; a forwards over the
// internal port to b, b to its app (--app-protocol grpc). All four stream kinds, metadata and
// trailers both ways, statuses with details, the ids the app sees.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/grpc_helpers.h"

namespace ringside::e2e {
namespace {

using Strings = std::vector<std::string>;

class GrpcProxyTest : public GrpcTopologyTest {
 protected:
  static void SetUpTestSuite() { StartTopology({.with_http_app = false}); }
  static void TearDownTestSuite() { StopTopology(); }
  void SetUp() override {
    GrpcTopologyTest::SetUp();
    if (HasFatalFailure()) return;
    stub_ = testpb::Echo::NewStub(LocalChannel(topology().a.ports.grpc));
  }
  std::unique_ptr<testpb::Echo::Stub> stub_;  // talks to sidecar a's gRPC API port
};

TEST_F(GrpcProxyTest, UnaryReachesTheAppAndComesBack) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  testpb::EchoRequest request;
  request.set_text("hello through two sidecars");
  request.set_payload(RandomBytes(4096, 7));
  request.set_seq(42);
  testpb::EchoResponse response;
  const grpc::Status status = stub_->Unary(&context, request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.text(), request.text());
  EXPECT_EQ(response.payload(), request.payload());
  EXPECT_EQ(response.seq(), 42);
}

TEST_F(GrpcProxyTest, ClientStreamDeliversEveryMessageInOrder) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  testpb::EchoResponse response;
  auto writer = stub_->ClientStream(&context, &response);
  std::string expected_text;
  for (int i = 0; i < 100; ++i) {
    testpb::EchoRequest request;
    request.set_text(absl::StrCat(i, ","));
    request.set_payload(std::string(i, 'p'));
    expected_text += request.text();
    ASSERT_TRUE(writer->Write(request)) << "write " << i;
  }
  ASSERT_TRUE(writer->WritesDone());
  const grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.messages(), 100);
  EXPECT_EQ(response.text(), expected_text);
  EXPECT_EQ(response.payload_bytes(), 99 * 100 / 2);
}

TEST_F(GrpcProxyTest, ServerStreamDeliversEveryResponseInOrder) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  testpb::EchoRequest request;
  request.set_text("tick");
  request.set_count(50);
  auto reader = stub_->ServerStream(&context, request);
  testpb::EchoResponse response;
  int64_t next = 0;
  while (reader->Read(&response)) {
    EXPECT_EQ(response.seq(), next);
    EXPECT_EQ(response.text(), "tick");
    ++next;
  }
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(next, 50);
}

TEST_F(GrpcProxyTest, BidiAnswersEachMessageBeforeTheNextIsSent) {
  // Ping-pong: each response must arrive while the request side is still open, so the
  // sidecars forward messages as they come instead of waiting for the end of the stream.
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  auto stream = stub_->Bidi(&context);
  for (int i = 0; i < 20; ++i) {
    testpb::EchoRequest request;
    request.set_seq(i);
    request.set_text(absl::StrCat("ping ", i));
    ASSERT_TRUE(stream->Write(request)) << "write " << i;
    testpb::EchoResponse response;
    ASSERT_TRUE(stream->Read(&response)) << "read " << i;
    EXPECT_EQ(response.seq(), i);
    EXPECT_EQ(response.text(), request.text());
  }
  ASSERT_TRUE(stream->WritesDone());
  testpb::EchoResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << Describe(status);
}

TEST_F(GrpcProxyTest, AppSeesCallerMetadataAndDaprIdsButNotDaprAppId) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  const std::string binary = std::string("\0\x01\xfe\xff bin", 8);
  context.AddMetadata("x-client-text", "hello");
  context.AddMetadata("x-client-data-bin", binary);
  testpb::EchoRequest request;
  request.set_echo_metadata(true);
  testpb::EchoResponse response;
  const grpc::Status status = stub_->Unary(&context, request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  const auto& seen = response.metadata();
  EXPECT_EQ(MetadataValues(seen, "x-client-text"), Strings{"hello"});
  EXPECT_EQ(MetadataValues(seen, "x-client-data-bin"), Strings{binary});
  EXPECT_EQ(MetadataValues(seen, "dapr-caller-app-id"), Strings{"a"});
  EXPECT_EQ(MetadataValues(seen, "dapr-callee-app-id"), Strings{"b"});
  EXPECT_TRUE(MetadataValues(seen, "dapr-app-id").empty()) << "dapr-app-id is removed before forwarding";
  // The app's Stats agree (what reached the app, independent of the echo path).
  auto stats = topology().AppStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->last_method(), "/ringside.test.v1.Echo/Unary");
  EXPECT_EQ(MetadataValues(stats->last_metadata(), "dapr-caller-app-id"), Strings{"a"});
}

TEST_F(GrpcProxyTest, ResponseHeadersAndTrailersComeBackOnUnary) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  testpb::EchoRequest request;
  (*request.mutable_response_headers())["x-resp-header"] = "from the app";
  (*request.mutable_response_headers())["x-resp-header-bin"] = std::string("\0\xff", 2);
  (*request.mutable_response_trailers())["x-resp-trailer"] = "after the body";
  testpb::EchoResponse response;
  const grpc::Status status = stub_->Unary(&context, request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "x-resp-header"), Strings{"from the app"});
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "x-resp-header-bin"),
            Strings{std::string("\0\xff", 2)});
  EXPECT_EQ(MetadataValues(context.GetServerTrailingMetadata(), "x-resp-trailer"), Strings{"after the body"});
  EXPECT_TRUE(MetadataValues(context.GetServerInitialMetadata(), "x-resp-trailer").empty());
}

TEST_F(GrpcProxyTest, MetadataAndTrailersBothWaysOnBidi) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  context.AddMetadata("x-stream-meta", "s1");
  auto stream = stub_->Bidi(&context);
  testpb::EchoRequest request;
  request.set_echo_metadata(true);
  (*request.mutable_response_headers())["x-resp-header"] = "bidi header";
  (*request.mutable_response_trailers())["x-resp-trailer"] = "bidi trailer";
  ASSERT_TRUE(stream->Write(request));
  testpb::EchoResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(MetadataValues(response.metadata(), "x-stream-meta"), Strings{"s1"});
  EXPECT_EQ(MetadataValues(response.metadata(), "dapr-callee-app-id"), Strings{"b"});
  // Headers are relayed with the first response message, before the stream ends.
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "x-resp-header"), Strings{"bidi header"});
  ASSERT_TRUE(stream->WritesDone());
  const grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(MetadataValues(context.GetServerTrailingMetadata(), "x-resp-trailer"), Strings{"bidi trailer"});
}

TEST_F(GrpcProxyTest, ErrorStatusWithDetailsPassesThroughUnchanged) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  testpb::EchoRequest request;
  request.mutable_status()->set_code(grpc::StatusCode::FAILED_PRECONDITION);
  request.mutable_status()->set_message("the app says no: ünïcode & 100%");
  testpb::EchoDetail detail;
  detail.set_text("why it said no");
  request.mutable_status()->add_details()->PackFrom(detail);
  (*request.mutable_response_trailers())["x-error-trailer"] = "t";
  testpb::EchoResponse response;
  const grpc::Status status = stub_->Unary(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  EXPECT_EQ(status.error_message(), "the app says no: ünïcode & 100%");
  const auto details = StatusDetails(status);
  ASSERT_TRUE(details.has_value()) << "grpc-status-details-bin was lost";
  EXPECT_EQ(details->code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(details->details_size(), 1);
  testpb::EchoDetail got;
  ASSERT_TRUE(details->details(0).UnpackTo(&got));
  EXPECT_EQ(got.text(), "why it said no");
  EXPECT_EQ(MetadataValues(context.GetServerTrailingMetadata(), "x-error-trailer"), Strings{"t"});
}

TEST_F(GrpcProxyTest, ServerStreamEndsWithTheAppsStatusAfterItsMessages) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  testpb::EchoRequest request;
  request.set_count(3);
  request.mutable_status()->set_code(grpc::StatusCode::ABORTED);
  request.mutable_status()->set_message("stopped after three");
  auto reader = stub_->ServerStream(&context, request);
  testpb::EchoResponse response;
  int received = 0;
  while (reader->Read(&response)) ++received;
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(received, 3);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED) << Describe(status);
  EXPECT_EQ(status.error_message(), "stopped after three");
}

// Sidecar a alone: what its gRPC API port does with calls that name no target.
class GrpcApiPortTest : public GrpcTopologyTest {
 protected:
  static void SetUpTestSuite() { StartTopology({.with_grpc_app = false, .with_http_app = false}); }
  static void TearDownTestSuite() { StopTopology(); }
  bool NeedsSidecarB() const override { return false; }
};

TEST_F(GrpcApiPortTest, WithoutDaprAppIdAnUnknownUnaryMethodIsUnimplemented) {
  auto stub = testpb::Echo::NewStub(LocalChannel(topology().a.ports.grpc));
  grpc::ClientContext context;
  SetTimeout(&context, 10s);
  testpb::EchoResponse response;
  const grpc::Status status = stub->Unary(&context, testpb::EchoRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << Describe(status);
}

TEST_F(GrpcApiPortTest, WithoutDaprAppIdAnUnknownStreamingMethodIsUnimplemented) {
  // The answer does not depend on how many messages the client sends: none, or several while
  // the request side stays open.
  auto stub = testpb::Echo::NewStub(LocalChannel(topology().a.ports.grpc));
  {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    auto stream = stub->Bidi(&context);
    stream->WritesDone();
    testpb::EchoResponse response;
    EXPECT_FALSE(stream->Read(&response));
    const grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << "no messages: " << Describe(status);
  }
  grpc::ClientContext context;
  SetTimeout(&context, 5s);
  auto stream = stub->Bidi(&context);
  stream->Write(testpb::EchoRequest());
  stream->Write(testpb::EchoRequest());
  testpb::EchoResponse response;
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << "two messages, open: " << Describe(status);
}

}  // namespace
}  // namespace ringside::e2e
