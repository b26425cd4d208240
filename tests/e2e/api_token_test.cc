// API tokens (spec §9, issue 10): with DAPR_API_TOKEN set, sidecar a refuses every HTTP and gRPC
// API call without the right `dapr-api-token` (401 "invalid api token" / UNAUTHENTICATED
// "Unauthorized" with daprd's ErrorInfo) and the apps behind the peers never see the call; health
// checks need no token. A caller's token never leaves its sidecar: the apps behind b and c get
// their own sidecar's APP_API_TOKEN instead, over HTTP, gRPC proxying and InvokeService alike.
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/inspected_request.h"

namespace ringside::e2e {
namespace {

namespace common = dapr::proto::common::v1;
namespace runtime = dapr::proto::runtime::v1;
using Strings = std::vector<std::string>;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kToken[] = "s3cret-caller-token";
constexpr char kAppToken[] = "app-side-token";

class ApiTokenTest : public GrpcTopologyTest {
 protected:
  static void SetUpTestSuite() { StartTopology({.a_api_token = kToken, .app_api_token = kAppToken}); }
  static void TearDownTestSuite() { StopTopology(); }

  // Requests the HTTP app behind c has answered, asked directly.
  int64_t HttpAppServed() {
    RequestSpec spec;
    spec.target = "/served";
    spec.content_length = false;
    auto r = Send(topology().http_app_port, spec, 5s);
    int64_t n = -1;
    if (!r.ok() || r->status() != 200 || !absl::SimpleAtoi(r->body, &n)) return -1;
    return n;
  }
  int64_t GrpcAppCalls() {
    auto stats = topology().AppStats();
    return stats.ok() ? stats->calls() : -1;
  }
  static Headers WithToken(std::string token) { return {{"dapr-api-token", std::move(token)}}; }
};

TEST_F(ApiTokenTest, HttpCallsWithoutTheRightTokenGet401AndNeverReachTheApp) {
  const uint16_t a = topology().a.ports.http;
  const int64_t served_before = HttpAppServed();
  ASSERT_GE(served_before, 0);
  const std::vector<std::pair<std::string, Headers>> refused = {
      {"no token", {}},
      {"wrong token", WithToken("s3cret-caller-tokeN")},
      {"empty token", WithToken("")},
      {"a prefix of the token", WithToken("s3cret")},
      {"the app's token", WithToken(kAppToken)}};
  for (const auto& [what, headers] : refused) {
    auto r = Invoke(a, "POST", "c", "echo", "must not arrive", headers);
    ASSERT_TRUE(r.ok()) << what << ": " << r.status();
    EXPECT_EQ(r->status(), 401) << what;
    EXPECT_EQ(r->body, "invalid api token\n") << what;
    EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8") << what;
  }
  // The metadata API is an API call too; a GET without a body keeps its connection.
  RequestSpec metadata;
  metadata.target = "/v1.0/metadata";
  metadata.content_length = false;
  auto m = Send(a, metadata);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->status(), 401);
  EXPECT_EQ(HttpAppServed(), served_before) << "a refused call reached the app";

  auto ok = Invoke(a, "POST", "c", "echo", "with the token", WithToken(kToken));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status(), 200);
  EXPECT_EQ(ok->body, "with the token");
  EXPECT_EQ(HttpAppServed(), served_before + 1);
}

TEST_F(ApiTokenTest, HealthEndpointsNeedNoToken) {
  for (const char* path : {"/v1.0/healthz", "/v1.0/healthz/outbound"}) {
    RequestSpec spec;
    spec.target = path;
    spec.content_length = false;
    auto r = Send(topology().a.ports.http, spec);
    ASSERT_TRUE(r.ok()) << path << ": " << r.status();
    EXPECT_EQ(r->status(), 204) << path;
  }
}

TEST_F(ApiTokenTest, TheCallersTokenNeverReachesAnAppWhichGetsItsOwnSidecarsToken) {
  auto r = Invoke(topology().a.ports.http, "POST", "c", "inspect", "x", WithToken(kToken));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->status(), 200) << r->body;
  auto seen = ParseInspectedRequest(r->body);
  ASSERT_TRUE(seen.has_value()) << r->body;
  EXPECT_EQ(seen->Values("dapr-api-token"), Strings{kAppToken});
}

class ApiTokenGrpcTest : public ApiTokenTest {
 protected:
  void SetUp() override {
    ApiTokenTest::SetUp();
    if (HasFatalFailure()) return;
    channel_ = LocalChannel(topology().a.ports.grpc);
  }
  grpc::Status InvokeServiceOnC(grpc::ClientContext* context, common::InvokeResponse* response) {
    SetTimeout(context, 10s);
    runtime::InvokeServiceRequest request;
    request.set_id("c");
    request.mutable_message()->set_method("inspect");
    request.mutable_message()->mutable_data()->set_value("x");
    request.mutable_message()->mutable_http_extension()->set_verb(common::HTTPExtension::POST);
    return runtime::Dapr::NewStub(channel_)->InvokeService(context, request, response);
  }
  // daprd's refusal: UNAUTHENTICATED "Unauthorized", ErrorInfo{Unauthorized, dapr.io, 401, why}.
  static void ExpectRefused(const grpc::Status& status, const std::string& why) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(status);
    EXPECT_EQ(status.error_message(), "Unauthorized");
    const auto details = StatusDetails(status);
    ASSERT_TRUE(details.has_value()) << "no google.rpc.Status details";
    EXPECT_EQ(details->code(), 16);
    ASSERT_EQ(details->details_size(), 1);
    EXPECT_EQ(details->details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");
    testpb::ErrorInfo info;
    ASSERT_TRUE(info.ParseFromString(details->details(0).value()));
    EXPECT_EQ(info.reason(), "Unauthorized");
    EXPECT_EQ(info.domain(), "dapr.io");
    EXPECT_EQ(info.metadata().count("http.code") ? info.metadata().at("http.code") : "", "401");
    EXPECT_EQ(info.metadata().count("http.error_message") ? info.metadata().at("http.error_message") : "", why);
  }
  std::shared_ptr<grpc::Channel> channel_;  // sidecar a's gRPC API port
};

TEST_F(ApiTokenGrpcTest, InvokeServiceWithoutTheRightTokenIsUnauthenticatedAndReachesNoApp) {
  const int64_t served_before = HttpAppServed();
  {
    grpc::ClientContext context;
    common::InvokeResponse response;
    ExpectRefused(InvokeServiceOnC(&context, &response), "missing api token in request metadata");
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("dapr-api-token", "nope");
    common::InvokeResponse response;
    ExpectRefused(InvokeServiceOnC(&context, &response), "authentication error: api token mismatch");
  }
  {
    grpc::ClientContext context;
    SetTimeout(&context, 10s);
    runtime::GetMetadataResponse response;
    ExpectRefused(runtime::Dapr::NewStub(channel_)->GetMetadata(&context, runtime::GetMetadataRequest(), &response),
                  "missing api token in request metadata");
  }
  EXPECT_EQ(HttpAppServed(), served_before) << "a refused call reached the app";

  grpc::ClientContext context;
  context.AddMetadata("dapr-api-token", kToken);
  common::InvokeResponse response;
  const grpc::Status status = InvokeServiceOnC(&context, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  auto seen = ParseInspectedRequest(response.data().value());
  ASSERT_TRUE(seen.has_value()) << response.data().value();
  EXPECT_EQ(seen->Values("dapr-api-token"), Strings{kAppToken}) << "the caller's token leaked";
}

TEST_F(ApiTokenGrpcTest, ProxiedCallsWithoutTheTokenAreRefusedAndTheAppGetsItsOwnToken) {
  auto stub = testpb::Echo::NewStub(channel_);
  const int64_t calls_before = GrpcAppCalls();
  ASSERT_GE(calls_before, 0);
  {
    grpc::ClientContext context;
    PrepareProxyCall(&context, "b");
    testpb::EchoRequest request;
    testpb::EchoResponse response;
    ExpectRefused(stub->Unary(&context, request, &response), "missing api token in request metadata");
  }
  {
    // A client stream that never ends its side is answered at once, not after its body.
    grpc::ClientContext context;
    PrepareProxyCall(&context, "b");
    context.AddMetadata("dapr-api-token", "nope");
    testpb::EchoResponse response;
    auto writer = stub->ClientStream(&context, &response);
    testpb::EchoRequest request;
    request.set_text("never delivered");
    writer->Write(request);  // may fail once the refusal has arrived
    ExpectRefused(writer->Finish(), "authentication error: api token mismatch");
  }
  EXPECT_EQ(GrpcAppCalls(), calls_before) << "a refused call reached the gRPC app";

  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  context.AddMetadata("dapr-api-token", kToken);
  testpb::EchoRequest request;
  request.set_echo_metadata(true);
  testpb::EchoResponse response;
  const grpc::Status status = stub->Unary(&context, request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(MetadataValues(response.metadata(), "dapr-api-token"), Strings{kAppToken})
      << "the caller's token leaked or the app token is missing";
}

}  // namespace
}  // namespace ringside::e2e
