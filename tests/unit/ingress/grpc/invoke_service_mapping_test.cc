// §4.2: the InvokeService answer for a callee's InternalInvokeResponse (HTTP and gRPC callees),
// and the GetMetadataResponse bytes (§9). Checked by parsing with libprotobuf.
#include <gtest/gtest.h>

#include "dapr/proto/common/v1/common.pb.h"
#include "dapr/proto/internals/v1/service_invocation.pb.h"
#include "dapr/proto/internals/v1/status.pb.h"
#include "dapr/proto/runtime/v1/dapr.pb.h"
#include "dataplane/ingress/grpc/invoke_service.h"
#include "ringside_invoke_test/error_info.pb.h"
#include "tests/unit/support/metadata_pairs.h"

namespace ringside::invoke {
namespace {

namespace internals = dapr::proto::internals::v1;
namespace runtime = dapr::proto::runtime::v1;
using test::Pairs;
using test::values_of;
using Strings = std::vector<std::string>;

internals::InternalInvokeResponse http_response(int code, const std::string& body) {
  internals::InternalInvokeResponse r;
  r.mutable_status()->set_code(code);
  (*r.mutable_headers())["Content-Type"].add_values("text/plain");
  (*r.mutable_headers())["X-App"].add_values("yes");
  r.mutable_message()->mutable_data()->set_value(body);
  r.mutable_message()->set_content_type("text/plain");
  return r;
}

class InvokeServiceMappingTest : public ::testing::Test {
 protected:
  void map(const internals::InternalInvokeResponse& r) {
    bytes_ = r.SerializeAsString();
    ASSERT_TRUE(map_invoke_service_response(bytes_, &answer_));
    headers_ = test::pairs_of(answer_.headers);
    trailers_ = test::pairs_of(answer_.trailers);
  }
  // The google.rpc.Status in grpc-status-details-bin.
  internals::Status details() {
    internals::Status st;
    auto v = values_of(trailers_, "grpc-status-details-bin");
    EXPECT_EQ(v.size(), 1u);
    if (v.size() == 1) {
      EXPECT_TRUE(st.ParseFromString(test::unbase64(v[0])));
    }
    return st;
  }
  mem::ShardPool pool_;
  GrpcAnswer answer_{&pool_};
  std::string bytes_;
  Pairs headers_, trailers_;
};

TEST_F(InvokeServiceMappingTest, Http2xxIsOkWithTheBodyAndDaprHttpStatus) {
  map(http_response(201, "made"));
  EXPECT_EQ(answer_.code, 0);
  dapr::proto::common::v1::InvokeResponse resp;
  ASSERT_TRUE(resp.ParseFromString(std::string(answer_.message.view())));
  EXPECT_EQ(resp.data().value(), "made");
  EXPECT_EQ(resp.content_type(), "text/plain");
  EXPECT_EQ(values_of(headers_, "dapr-http-status"), Strings{"201"});
  EXPECT_EQ(values_of(headers_, "dapr-content-type"), Strings{"text/plain"});  // IANA rename
  EXPECT_EQ(values_of(headers_, "x-app"), Strings{"yes"});
  EXPECT_TRUE(trailers_.empty());
}

TEST_F(InvokeServiceMappingTest, HttpErrorBecomesMappedCodeWithErrorInfo) {
  map(http_response(404, "no such thing"));
  EXPECT_EQ(answer_.code, 5);
  EXPECT_EQ(answer_.status_message, "Not Found");
  EXPECT_EQ(values_of(headers_, "dapr-http-status"), Strings{"404"});
  internals::Status st = details();
  EXPECT_EQ(st.code(), 5);
  EXPECT_EQ(st.message(), "Not Found");
  ASSERT_EQ(st.details_size(), 1);
  EXPECT_EQ(st.details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(info.ParseFromString(st.details(0).value()));
  EXPECT_EQ(info.reason(), "Not Found");
  EXPECT_EQ(info.domain(), "dapr.io");
  EXPECT_EQ(info.metadata().at("http.code"), "404");
  EXPECT_EQ(info.metadata().at("http.error_message"), "no such thing");
}

TEST_F(InvokeServiceMappingTest, HttpErrorBodyIsCutTo63Bytes) {
  map(http_response(500, std::string(100, 'x')));
  EXPECT_EQ(answer_.code, 2);
  EXPECT_EQ(answer_.status_message, "Internal Server Error");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(info.ParseFromString(details().details(0).value()));
  EXPECT_EQ(info.metadata().at("http.error_message"), std::string(63, 'x'));
  EXPECT_EQ(info.metadata().at("http.code"), "500");
}

TEST_F(InvokeServiceMappingTest, HttpErrorBodyIsNotCutInsideAUtf8Character) {
  std::string body = std::string(62, 'a') + "\xc3\xa9" + "tail";  // é straddles byte 63
  map(http_response(409, body));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(info.ParseFromString(details().details(0).value()));
  EXPECT_EQ(info.metadata().at("http.error_message"), std::string(62, 'a'));
}

TEST_F(InvokeServiceMappingTest, HttpStatusToGrpcCodeTable) {
  const std::pair<int, int> table[] = {{400, 13}, {401, 16}, {403, 7}, {404, 5}, {408, 1},
                                       {409, 6},  {429, 8},  {500, 2}, {501, 12}, {503, 14},
                                       {504, 4},  {302, 2},  {418, 2}};
  for (auto [http, code] : table) {
    map(http_response(http, ""));
    EXPECT_EQ(answer_.code, code) << "HTTP " << http;
    EXPECT_EQ(values_of(headers_, "dapr-http-status"), Strings{std::to_string(http)});
  }
}

TEST_F(InvokeServiceMappingTest, GrpcCalleeStatusHeadersAndTrailersPassThrough) {
  internals::InternalInvokeResponse r;
  r.mutable_status()->set_code(9);
  r.mutable_status()->set_message("status 9");
  auto* d = r.mutable_status()->add_details();
  d->set_type_url("type.googleapis.com/ringside.test.v1.EchoDetail");
  d->set_value("detail");
  (*r.mutable_headers())["x-app-header"].add_values("on-invoke");
  (*r.mutable_headers())["x-h-bin"].add_values("AQ==");
  (*r.mutable_trailers())["x-app-trailer"].add_values("on-invoke");
  (*r.mutable_trailers())["date"].add_values("today");
  map(r);
  EXPECT_EQ(answer_.code, 9);
  EXPECT_EQ(answer_.status_message, "status 9");
  EXPECT_EQ(values_of(headers_, "x-app-header"), Strings{"on-invoke"});
  EXPECT_EQ(values_of(headers_, "x-h-bin"), Strings{"AQ"});
  EXPECT_TRUE(values_of(headers_, "dapr-http-status").empty());
  EXPECT_EQ(values_of(trailers_, "x-app-trailer"), Strings{"on-invoke"});
  EXPECT_EQ(values_of(trailers_, "date"), Strings{"today"});
  internals::Status st = details();
  EXPECT_EQ(st.code(), 9);
  EXPECT_EQ(st.message(), "status 9");
  ASSERT_EQ(st.details_size(), 1);
  EXPECT_EQ(st.details(0).type_url(), "type.googleapis.com/ringside.test.v1.EchoDetail");
  EXPECT_EQ(st.details(0).value(), "detail");
}

TEST_F(InvokeServiceMappingTest, GrpcCalleeOkKeepsTypeUrl) {
  internals::InternalInvokeResponse r;
  r.mutable_status()->set_code(0);
  r.mutable_message()->mutable_data()->set_type_url("type.googleapis.com/x.Y");
  r.mutable_message()->mutable_data()->set_value("v");
  map(r);
  EXPECT_EQ(answer_.code, 0);
  dapr::proto::common::v1::InvokeResponse resp;
  ASSERT_TRUE(resp.ParseFromString(std::string(answer_.message.view())));
  EXPECT_EQ(resp.data().type_url(), "type.googleapis.com/x.Y");
  EXPECT_EQ(resp.data().value(), "v");
  EXPECT_TRUE(values_of(trailers_, "grpc-status-details-bin").empty());
}

TEST_F(InvokeServiceMappingTest, GarbageIsRefused) {
  EXPECT_FALSE(map_invoke_service_response("\xff\xff", &answer_));
}

TEST(GetMetadataResponseTest, ParsesWithLibprotobuf) {
  MetadataInfo m;
  m.app_id = "a";
  m.runtime_version = "ringside-0.1.0";
  m.has_app = true;
  m.app_port = 50051;
  m.app_protocol = "grpc";
  m.channel_address = "127.0.0.1";
  m.has_health = true;
  m.health_check_path = "/healthz";
  m.health_probe_interval = "5s";
  m.health_probe_timeout = "500ms";
  m.health_threshold = 3;
  runtime::GetMetadataResponse r;
  ASSERT_TRUE(r.ParseFromString(encode_get_metadata_response(m)));
  EXPECT_EQ(r.id(), "a");
  EXPECT_EQ(r.runtime_version(), "ringside-0.1.0");
  EXPECT_EQ(r.extended_metadata().at("daprRuntimeVersion"), "ringside-0.1.0");
  EXPECT_EQ(r.app_connection_properties().port(), 50051);
  EXPECT_EQ(r.app_connection_properties().protocol(), "grpc");
  EXPECT_EQ(r.app_connection_properties().channel_address(), "127.0.0.1");
  EXPECT_EQ(r.app_connection_properties().health().health_check_path(), "/healthz");
  EXPECT_EQ(r.app_connection_properties().health().health_probe_timeout(), "500ms");
  EXPECT_EQ(r.app_connection_properties().health().health_threshold(), 3);
  EXPECT_TRUE(r.has_actor_runtime());
  EXPECT_EQ(static_cast<int>(r.actor_runtime().runtime_status()), 1);  // DISABLED
  // Same bytes libprotobuf writes for the same message.
  EXPECT_EQ(r.SerializeAsString(), encode_get_metadata_response(m));
}

TEST(GetMetadataResponseTest, WithoutAnAppThereAreNoConnectionProperties) {
  MetadataInfo m;
  m.app_id = "solo";
  m.runtime_version = "v";
  runtime::GetMetadataResponse r;
  ASSERT_TRUE(r.ParseFromString(encode_get_metadata_response(m)));
  EXPECT_EQ(r.id(), "solo");
  EXPECT_FALSE(r.has_app_connection_properties());
  EXPECT_TRUE(r.has_actor_runtime());
}

}  // namespace
}  // namespace ringside::invoke
