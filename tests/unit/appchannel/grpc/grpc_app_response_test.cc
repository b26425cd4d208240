// §5.5 gRPC row: an OnInvoke answer becomes the InternalInvokeResponse the caller receives.
// Checked by parsing the bytes with libprotobuf.
#include <gtest/gtest.h>

#include <memory>

#include "dapr/proto/common/v1/common.pb.h"
#include "dapr/proto/internals/v1/service_invocation.pb.h"
#include "dapr/proto/internals/v1/status.pb.h"
#include "dataplane/appchannel/grpc/grpc_app_channel.h"
#include "tests/unit/support/metadata_pairs.h"

namespace ringside::invoke {
namespace {

namespace internals = dapr::proto::internals::v1;
namespace common = dapr::proto::common::v1;

std::string b64(const std::string& raw, bool pad) {
  std::string out(http1::base64_encoded_size(raw.size()), '\0');
  size_t n = http1::base64_encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()),
      std::span<char>(out.data(), out.size()));
  out.resize(n);
  while (!pad && !out.empty() && out.back() == '=') out.pop_back();
  return out;
}

class GrpcAppResponseTest : public ::testing::Test {
 protected:
  internals::InternalInvokeResponse map(const grpc::UnaryResult& r) {
    EXPECT_TRUE(encode_grpc_app_response(r, scratch_.get()));
    internals::InternalInvokeResponse out;
    EXPECT_TRUE(out.ParseFromString(std::string(scratch_->response.view())));
    return out;
  }
  static grpc::UnaryResult result(int code, std::string_view msg, std::string_view body) {
    grpc::UnaryResult r{};
    r.grpc_status = code;
    r.grpc_message = msg;
    r.message = body;
    return r;
  }
  mem::ShardPool pool_;
  std::unique_ptr<GrpcAppResponseScratch> scratch_ = std::make_unique<GrpcAppResponseScratch>(&pool_);
};

TEST_F(GrpcAppResponseTest, OkAnswerKeepsTheAppsInvokeResponseAndMetadata) {
  common::InvokeResponse app;
  app.mutable_data()->set_type_url("type.googleapis.com/x.Y");
  app.mutable_data()->set_value("typed");
  app.set_content_type("application/x-protobuf");
  std::string body = app.SerializeAsString();
  grpc::Metadata headers[] = {{"x-app-header", "h"}, {"x-raw-bin", "AQ"}};
  grpc::Metadata trailers[] = {{"x-app-trailer", "t"}};
  grpc::UnaryResult r = result(0, "", body);
  r.headers = headers;
  r.trailers = trailers;
  internals::InternalInvokeResponse out = map(r);
  EXPECT_EQ(out.status().code(), 0);
  EXPECT_EQ(out.message().data().type_url(), "type.googleapis.com/x.Y");
  EXPECT_EQ(out.message().data().value(), "typed");
  EXPECT_EQ(out.message().content_type(), "application/x-protobuf");
  ASSERT_EQ(out.headers().count("x-app-header"), 1u);
  EXPECT_EQ(out.headers().at("x-app-header").values(0), "h");
  // "-bin" values are kept as padded standard base64, as daprd stores them.
  EXPECT_EQ(out.headers().at("x-raw-bin").values(0), "AQ==");
  EXPECT_EQ(out.trailers().at("x-app-trailer").values(0), "t");
}

TEST_F(GrpcAppResponseTest, ErrorStatusCarriesCodeMessageAndDetails) {
  internals::Status st;
  st.set_code(9);
  st.set_message("status 9");
  auto* d = st.add_details();
  d->set_type_url("type.googleapis.com/ringside.test.v1.EchoDetail");
  d->set_value("\x0a\x03hey");
  grpc::Metadata trailers[] = {{"grpc-status-details-bin", ""}, {"x-t", "1"}};
  std::string details = b64(st.SerializeAsString(), /*pad=*/false);
  trailers[0].value = details;
  grpc::UnaryResult r = result(9, "status 9", "");
  r.trailers = trailers;
  internals::InternalInvokeResponse out = map(r);
  EXPECT_EQ(out.status().code(), 9);
  EXPECT_EQ(out.status().message(), "status 9");
  ASSERT_EQ(out.status().details_size(), 1);
  EXPECT_EQ(out.status().details(0).type_url(), "type.googleapis.com/ringside.test.v1.EchoDetail");
  EXPECT_EQ(out.status().details(0).value(), "\x0a\x03hey");
  // grpc-go consumes grpc-status-details-bin: it is not a trailer of the response.
  EXPECT_EQ(out.trailers().count("grpc-status-details-bin"), 0u);
  EXPECT_EQ(out.trailers().at("x-t").values(0), "1");
  EXPECT_FALSE(out.has_message());
}

TEST_F(GrpcAppResponseTest, GarbageDetailsAreIgnoredNotFatal) {
  grpc::Metadata trailers[] = {{"grpc-status-details-bin", "////"}};
  grpc::UnaryResult r = result(5, "nope", "");
  r.trailers = trailers;
  internals::InternalInvokeResponse out = map(r);
  EXPECT_EQ(out.status().code(), 5);
  EXPECT_EQ(out.status().details_size(), 0);
}

TEST_F(GrpcAppResponseTest, UnparsableOkAnswerBecomesInternal) {
  internals::InternalInvokeResponse out = map(result(0, "", "\xff\xff\xff"));
  EXPECT_EQ(out.status().code(), 13);
  EXPECT_EQ(out.status().message(), "grpc: failed to unmarshal the received message");
}

}  // namespace
}  // namespace ringside::invoke
