// The cross combinations of spec §5.9 that go through Dapr's own APIs: gRPC
// Dapr/InvokeService to an HTTP app and to a gRPC app (§4.2), an HTTP client to a gRPC app
// (§4.4 gRPC app channel, status mapping §5.8, JSON error body §5.6), and Dapr/GetMetadata (§9).
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "tests/e2e/grpc_helpers.h"

namespace ringside::e2e {
namespace {

namespace common = dapr::proto::common::v1;
namespace runtime = dapr::proto::runtime::v1;
using Strings = std::vector<std::string>;

class GrpcInvokeServiceTest : public GrpcTopologyTest {
 protected:
  static void SetUpTestSuite() { StartTopology({}); }
  static void TearDownTestSuite() { StopTopology(); }
  void SetUp() override {
    GrpcTopologyTest::SetUp();
    if (HasFatalFailure()) return;
    dapr_ = runtime::Dapr::NewStub(LocalChannel(topology().a.ports.grpc));
  }
  // InvokeService on sidecar a; fills `response` and returns the status.
  grpc::Status InvokeService(grpc::ClientContext* context, const std::string& app_id,
                             const common::InvokeRequest& message, common::InvokeResponse* response) {
    SetTimeout(context, 10s);
    runtime::InvokeServiceRequest request;
    request.set_id(app_id);
    *request.mutable_message() = message;
    return dapr_->InvokeService(context, request, response);
  }
  std::unique_ptr<runtime::Dapr::Stub> dapr_;  // sidecar a's gRPC API
};

common::InvokeRequest HttpMessage(const std::string& method, common::HTTPExtension::Verb verb,
                                  const std::string& body, const std::string& content_type) {
  common::InvokeRequest message;
  message.set_method(method);
  message.mutable_data()->set_value(body);
  message.set_content_type(content_type);
  message.mutable_http_extension()->set_verb(verb);
  return message;
}

TEST_F(GrpcInvokeServiceTest, InvokeServiceToAnHttpApp) {
  grpc::ClientContext context;
  auto message = HttpMessage("echo", common::HTTPExtension::POST, "hello http app", "text/plain");
  message.mutable_http_extension()->set_querystring("a=1&b=2");
  common::InvokeResponse response;
  const grpc::Status status = InvokeService(&context, "c", message, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.data().value(), "hello http app");
  EXPECT_EQ(response.content_type(), "text/plain");
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "dapr-http-status"), Strings{"200"});
  // The HTTP app's own headers come back as header metadata (lower-case keys).
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "x-echo-method"), Strings{"POST"});
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "x-echo-query"), Strings{"a=1&b=2"});
}

TEST_F(GrpcInvokeServiceTest, InvokeServiceToAnHttpAppErrorIsMappedWithErrorInfo) {
  grpc::ClientContext context;
  common::InvokeResponse response;
  const grpc::Status status =
      InvokeService(&context, "c", HttpMessage("status/404", common::HTTPExtension::GET, "", ""), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);  // §5.8: 404 → 5
  EXPECT_EQ(status.error_message(), "Not Found");
  const auto details = StatusDetails(status);
  ASSERT_TRUE(details.has_value()) << "no google.rpc.Status details";
  ASSERT_EQ(details->details_size(), 1);
  EXPECT_EQ(details->details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");
  testpb::ErrorInfo info;
  ASSERT_TRUE(info.ParseFromString(details->details(0).value()));
  EXPECT_EQ(info.reason(), "Not Found");
  EXPECT_EQ(info.domain(), "dapr.io");
  EXPECT_EQ(info.metadata().count("http.code") ? info.metadata().at("http.code") : "", "404");
  EXPECT_EQ(info.metadata().count("http.error_message") ? info.metadata().at("http.error_message") : "",
            "status 404");
  // dapr-http-status travels in the initial metadata, as daprd sends it, even on an error.
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "dapr-http-status"), Strings{"404"});
}

TEST_F(GrpcInvokeServiceTest, InvokeServiceToAnHttpAppStatusMapping) {
  // §5.8 HTTP → gRPC for the codes the echo app can produce.
  const std::vector<std::pair<int, grpc::StatusCode>> cases = {
      {400, grpc::StatusCode::INTERNAL}, {500, grpc::StatusCode::UNKNOWN},
      {503, grpc::StatusCode::UNAVAILABLE}, {201, grpc::StatusCode::OK}};
  for (const auto& [http, code] : cases) {
    grpc::ClientContext context;
    common::InvokeResponse response;
    const grpc::Status status = InvokeService(
        &context, "c", HttpMessage(absl::StrCat("status/", http), common::HTTPExtension::GET, "", ""), &response);
    EXPECT_EQ(status.error_code(), code) << "HTTP " << http << " → " << Describe(status);
  }
}

TEST_F(GrpcInvokeServiceTest, InvokeServiceToAGrpcAppKeepsTypeUrlHeadersAndTrailers) {
  grpc::ClientContext context;
  context.AddMetadata("x-invoke-meta", "m1");
  testpb::EchoDetail payload;
  payload.set_text("typed body");
  common::InvokeRequest message;
  message.set_method("typed");
  message.mutable_data()->PackFrom(payload);
  message.set_content_type("application/x-protobuf");
  common::InvokeResponse response;
  const grpc::Status status = InvokeService(&context, "b", message, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.data().type_url(), "type.googleapis.com/ringside.test.v1.EchoDetail");
  testpb::EchoDetail got;
  ASSERT_TRUE(response.data().UnpackTo(&got));
  EXPECT_EQ(got.text(), "typed body");
  EXPECT_EQ(response.content_type(), "application/x-protobuf");
  EXPECT_EQ(MetadataValues(context.GetServerInitialMetadata(), "x-app-header"), Strings{"on-invoke"});
  EXPECT_EQ(MetadataValues(context.GetServerTrailingMetadata(), "x-app-trailer"), Strings{"on-invoke"});
  auto stats = topology().AppStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->last_method(), "/dapr.proto.runtime.v1.AppCallback/OnInvoke");
  EXPECT_EQ(stats->last_invoke_method(), "typed");
  EXPECT_EQ(MetadataValues(stats->last_metadata(), "x-invoke-meta"), Strings{"m1"});
  EXPECT_EQ(MetadataValues(stats->last_metadata(), "dapr-caller-app-id"), Strings{"a"});
  EXPECT_EQ(MetadataValues(stats->last_metadata(), "dapr-callee-app-id"), Strings{"b"});
}

TEST_F(GrpcInvokeServiceTest, InvokeServiceToAGrpcAppEndsWithTheAppsStatus) {
  grpc::ClientContext context;
  common::InvokeRequest message;
  message.set_method("status/9");
  common::InvokeResponse response;
  const grpc::Status status = InvokeService(&context, "b", message, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  EXPECT_EQ(status.error_message(), "status 9");
  const auto details = StatusDetails(status);
  ASSERT_TRUE(details.has_value()) << "the app's details were lost";
  ASSERT_EQ(details->details_size(), 1);
  testpb::EchoDetail detail;
  ASSERT_TRUE(details->details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.text(), "detail for status 9");
}

TEST_F(GrpcInvokeServiceTest, HttpClientToAGrpcApp) {
  auto r = Invoke(topology().a.ports.http, "POST", "b", "say/hello?x=1&y=two", "hello grpc app",
                  {{"Content-Type", "text/plain"}, {"X-Http-Meta", "h1"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200) << r->body;
  EXPECT_EQ(r->body, "hello grpc app");
  EXPECT_EQ(r->header("Content-Type"), "text/plain");
  auto stats = topology().AppStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->last_method(), "/dapr.proto.runtime.v1.AppCallback/OnInvoke");
  EXPECT_EQ(stats->last_invoke_method(), "say/hello");
  EXPECT_EQ(stats->last_invoke_verb(), "POST");
  EXPECT_EQ(stats->last_invoke_querystring(), "x=1&y=two");
  EXPECT_EQ(stats->last_invoke_content_type(), "text/plain");
  // §5.4: HTTP headers become lower-case metadata; IANA headers get the dapr- prefix.
  EXPECT_EQ(MetadataValues(stats->last_metadata(), "x-http-meta"), Strings{"h1"});
  EXPECT_EQ(MetadataValues(stats->last_metadata(), "dapr-content-type"), Strings{"text/plain"});
  EXPECT_EQ(MetadataValues(stats->last_metadata(), "dapr-caller-app-id"), Strings{"a"});
  EXPECT_EQ(MetadataValues(stats->last_metadata(), "dapr-callee-app-id"), Strings{"b"});
}

TEST_F(GrpcInvokeServiceTest, HttpClientToAGrpcAppErrorsAreMappedWithAJsonStatus) {
  // §5.8 gRPC → HTTP, body = protobuf-JSON of the status with the original code (§5.6).
  const std::vector<std::pair<int, int>> cases = {{1, 408}, {3, 400}, {4, 504}, {5, 404}, {7, 403},
                                                  {8, 429}, {12, 501}, {14, 503}, {16, 401}};
  for (const auto& [code, http] : cases) {
    auto r = Invoke(topology().a.ports.http, "GET", "b", absl::StrCat("status/", code));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), http) << "gRPC code " << code << ": " << r->body;
    EXPECT_EQ(JsonNumberField(r->body, "code"), std::optional<double>(code)) << r->body;
    EXPECT_EQ(JsonStringField(r->body, "message"), absl::StrCat("status ", code)) << r->body;
  }
}

TEST_F(GrpcInvokeServiceTest, GetMetadataOfAGrpcAppsSidecar) {
  auto b = runtime::Dapr::NewStub(LocalChannel(topology().b.ports.grpc));
  grpc::ClientContext context;
  SetTimeout(&context, 10s);
  runtime::GetMetadataResponse response;
  const grpc::Status status = b->GetMetadata(&context, runtime::GetMetadataRequest(), &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.id(), "b");
  EXPECT_EQ(response.app_connection_properties().port(), topology().grpc_app_port);
  EXPECT_EQ(response.app_connection_properties().protocol(), "grpc");
}

// Sidecar a alone: GetMetadata is what SDKs poll as the gRPC liveness probe (spec §9).
class GrpcMetadataTest : public GrpcTopologyTest {
 protected:
  static void SetUpTestSuite() { StartTopology({.with_grpc_app = false, .with_http_app = false}); }
  static void TearDownTestSuite() { StopTopology(); }
  bool NeedsSidecarB() const override { return false; }
};

TEST_F(GrpcMetadataTest, GetMetadataAnswersWithTheAppId) {
  auto dapr = runtime::Dapr::NewStub(LocalChannel(topology().a.ports.grpc));
  grpc::ClientContext context;
  SetTimeout(&context, 10s);
  runtime::GetMetadataResponse response;
  const grpc::Status status = dapr->GetMetadata(&context, runtime::GetMetadataRequest(), &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.id(), "a");
  EXPECT_FALSE(response.runtime_version().empty());
}

}  // namespace
}  // namespace ringside::e2e
