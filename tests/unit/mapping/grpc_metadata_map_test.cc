// §5.4 (Dapr metadata -> gRPC metadata) and the reverse normalization of §4.2/§5.5.
#include "dataplane/mapping/grpc_metadata_map.h"

#include <gtest/gtest.h>

#include <memory>

#include "tests/unit/support/metadata_pairs.h"

namespace ringside::invoke {
namespace {

using test::Pairs;
using test::values_of;

class ConvertTest : public ::testing::Test {
 protected:
  Pairs convert(const Pairs& in, bool rename = true) {
    grpc::HeaderStore out(&pool_);
    GrpcMetadataConverter conv(&out, rename);
    for (const auto& [k, v] : in) EXPECT_TRUE(conv.add(k, v));
    EXPECT_TRUE(conv.finish());
    return test::pairs_of(out);
  }
  mem::ShardPool pool_;
};

TEST_F(ConvertTest, IanaHeadersFromHttpCallersAreRenamedDaprLowerCase) {
  Pairs out = convert({{"Content-Type", "text/plain"}, {"Accept", "a/b"}, {"Accept", "c/d"},
                       {"If-None-Match", "x"}, {"X-My-Header", "v"}, {"Dapr-Caller-App-Id", "a"}});
  EXPECT_EQ(values_of(out, "dapr-content-type"), std::vector<std::string>{"text/plain"});
  EXPECT_EQ(values_of(out, "dapr-accept"), (std::vector<std::string>{"a/b", "c/d"}));
  EXPECT_EQ(values_of(out, "dapr-if-none-match"), std::vector<std::string>{"x"});
  EXPECT_EQ(values_of(out, "x-my-header"), std::vector<std::string>{"v"});
  EXPECT_EQ(values_of(out, "dapr-caller-app-id"), std::vector<std::string>{"a"});
  EXPECT_TRUE(values_of(out, "content-type").empty());
}

TEST_F(ConvertTest, IanaMatchIsExactCaseSoGrpcKeysAreNotRenamed) {
  // A gRPC caller's lower-case "accept" is not the IANA "Accept": copied as is; its
  // content-type is the transport's own and never forwarded.
  Pairs out = convert({{"accept", "x"}, {"content-type", "application/grpc"}, {"date", "d"}});
  EXPECT_EQ(values_of(out, "accept"), std::vector<std::string>{"x"});
  EXPECT_EQ(values_of(out, "date"), std::vector<std::string>{"d"});
  EXPECT_TRUE(values_of(out, "content-type").empty());
  EXPECT_TRUE(values_of(out, "dapr-accept").empty());
}

TEST_F(ConvertTest, TrailersAreNotRenamed) {
  Pairs out = convert({{"Date", "d"}, {"X-T", "t"}}, /*rename=*/false);
  EXPECT_EQ(values_of(out, "date"), std::vector<std::string>{"d"});
  EXPECT_EQ(values_of(out, "x-t"), std::vector<std::string>{"t"});
  EXPECT_TRUE(values_of(out, "dapr-date").empty());
}

TEST_F(ConvertTest, TransportKeysAndDestinationAreDropped) {
  Pairs out = convert({{"destination-app-id", "b"}, {":authority", "h"}, {"te", "trailers"},
                       {"grpc-timeout", "1S"}, {"user-agent", "grpc-c++"},
                       {"grpc-accept-encoding", "gzip"}, {"grpc-status-details-bin", "AAAA"},
                       {"keep", "1"}});
  EXPECT_EQ(out, (Pairs{{"keep", "1"}}));
}

TEST_F(ConvertTest, KeysAndValuesAGrpcPeerCannotTakeAreSkipped) {
  Pairs out = convert({{"bad key", "v"}, {"x-ok", "line\r\nbreak"}, {"x-utf8", "caf\xc3\xa9"},
                       {"x-fine", "printable ~ text"}});
  EXPECT_EQ(out, (Pairs{{"x-fine", "printable ~ text"}}));
}

TEST_F(ConvertTest, BinValuesMustBeStdBase64AndGoOutUnpadded) {
  Pairs out = convert({{"x-data-bin", "AQID"}, {"x-data-bin", "AQ=="}, {"x-data-bin", "AQ"},
                       {"x-data-bin", "!!!!"}});
  // "AQ" (unpadded) is not StdEncoding: Go skips it, like the invalid one.
  EXPECT_EQ(values_of(out, "x-data-bin"), (std::vector<std::string>{"AQID", "AQ"}));
}

TEST_F(ConvertTest, HttpTraceparentIsPassedOnInBothForms) {
  const std::string tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  Pairs out = convert({{"traceparent", tp}, {"tracestate", "k=v"}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(values_of(out, "traceparent"), std::vector<std::string>{tp});
  EXPECT_EQ(values_of(out, "tracestate"), std::vector<std::string>{"k=v"});
  auto bin = values_of(out, "grpc-trace-bin");
  ASSERT_EQ(bin.size(), 1u);
  std::string raw = test::unbase64(bin[0]);
  ASSERT_EQ(raw.size(), 29u);
  EXPECT_EQ(raw[0], 0);
  EXPECT_EQ(raw[1], 0);
  EXPECT_EQ(static_cast<uint8_t>(raw[2]), 0x0a);
  EXPECT_EQ(static_cast<uint8_t>(raw[17]), 0x9c);
  EXPECT_EQ(raw[18], 1);
  EXPECT_EQ(static_cast<uint8_t>(raw[19]), 0xb7);
  EXPECT_EQ(raw[27], 2);
  EXPECT_EQ(raw[28], 1);
}

TEST_F(ConvertTest, GrpcOriginTraceBinIsPassedOnWithItsTraceparent) {
  uint8_t bin[kTraceBinSize];
  ASSERT_TRUE(parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", bin));
  char b64[64];
  size_t n = http1::base64_encode(std::span<const uint8_t>(bin, kTraceBinSize), std::span<char>(b64, sizeof b64));
  Pairs out = convert({{"content-type", "application/grpc"}, {"grpc-trace-bin", std::string(b64, n)}});
  EXPECT_EQ(values_of(out, "traceparent"),
            std::vector<std::string>{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"});
  EXPECT_EQ(values_of(out, "grpc-trace-bin").size(), 1u);
}

TEST_F(ConvertTest, NoTraceContextMeansNoTraceKeys) {
  Pairs out = convert({{"traceparent", "garbage"}, {"x", "1"}});
  EXPECT_EQ(out, (Pairs{{"x", "1"}}));
}

TEST(GrpcMetadataMapTest, StdBase64Validation) {
  EXPECT_TRUE(is_std_base64(""));
  EXPECT_TRUE(is_std_base64("AQID"));
  EXPECT_TRUE(is_std_base64("AQI="));
  EXPECT_TRUE(is_std_base64("AQ=="));
  EXPECT_FALSE(is_std_base64("AQ"));
  EXPECT_FALSE(is_std_base64("A==="));
  EXPECT_FALSE(is_std_base64("A=QI"));
  EXPECT_FALSE(is_std_base64("AQ-_"));
}

TEST(GrpcMetadataMapTest, IncomingBinValuesAreStoredAsPaddedStdBase64) {
  auto md = std::make_unique<MetadataBuilder>();
  md->reset();
  grpc::Metadata in[] = {{"x-a-bin", "AQ"}, {"x-b-bin", "AQI="}, {"x-c-bin", "A"},
                         {"x-d", "plain"}, {"grpc-status-details-bin", "AAAA"}};
  ASSERT_TRUE(add_grpc_metadata(in, md.get(), "grpc-status-details-bin"));
  std::span<const codec::MetadataEntry> e = md->build();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].key, "x-a-bin");
  EXPECT_EQ(e[0].values[0], "AQ==");
  EXPECT_EQ(e[1].key, "x-b-bin");
  EXPECT_EQ(e[1].values[0], "AQI=");
  EXPECT_EQ(e[2].key, "x-d");
  EXPECT_EQ(e[2].values[0], "plain");
}

}  // namespace
}  // namespace ringside::invoke
