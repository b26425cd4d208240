// header_rules: which metadata keys reach an HTTP app (or an HTTP client) and under what name,
// per spec §5.3.
#include "dataplane/mapping/header_rules.h"

#include <gtest/gtest.h>

#include <string_view>

namespace ringside::invoke {
namespace {

HeaderAction classify(std::string_view key, std::string_view connection = {}) {
  ConnectionTokens tokens;
  if (!connection.empty()) tokens.add(connection);
  return classify_metadata_key(key, tokens);
}

TEST(HeaderRules, HopByHopHeadersAreDroppedInAnyCase) {
  for (std::string_view k :
       {"connection", "Connection", "keep-alive", "Keep-Alive", "proxy-connection",
        "transfer-encoding", "Transfer-Encoding", "upgrade", "http2-settings", "HTTP2-Settings",
        "te", "TE", "trailer", "proxy-authorization", "Proxy-Authorization",
        "proxy-authenticate"}) {
    EXPECT_TRUE(is_hop_by_hop_header(k)) << k;
    EXPECT_EQ(classify(k), HeaderAction::kDrop) << k;
  }
}

TEST(HeaderRules, NamesThatMerelyResembleHopByHopAreKept) {
  for (std::string_view k : {"connections", "x-connection", "tee", "trailers", "upgrade-insecure-requests",
                             "keep-alive-x", "t", ""}) {
    EXPECT_FALSE(is_hop_by_hop_header(k)) << k;
  }
  EXPECT_EQ(classify("Upgrade-Insecure-Requests"), HeaderAction::kCopy);
  EXPECT_EQ(classify("Trailers"), HeaderAction::kCopy);
}

TEST(HeaderRules, HeadersNamedInConnectionAreDropped) {
  const std::string_view conn = "close, X-Custom ,\tX-Other\t, ,";
  EXPECT_EQ(classify("x-custom", conn), HeaderAction::kDrop);
  EXPECT_EQ(classify("X-CUSTOM", conn), HeaderAction::kDrop);
  EXPECT_EQ(classify("X-Other", conn), HeaderAction::kDrop);
  EXPECT_EQ(classify("close", conn), HeaderAction::kDrop);
  // Only whole tokens count.
  EXPECT_EQ(classify("X-Cust", conn), HeaderAction::kCopy);
  EXPECT_EQ(classify("X-Custom-2", conn), HeaderAction::kCopy);
  EXPECT_EQ(classify("X-Custom"), HeaderAction::kCopy);  // no Connection header: kept
}

TEST(HeaderRules, ListContainsTokenTrimsAndIgnoresCase) {
  EXPECT_TRUE(list_contains_token("a", "A"));
  EXPECT_TRUE(list_contains_token(" a , b ", "b"));
  EXPECT_TRUE(list_contains_token("a,\tb\t", "B"));
  EXPECT_FALSE(list_contains_token("ab, c", "a"));
  EXPECT_FALSE(list_contains_token("", "a"));
  EXPECT_FALSE(list_contains_token(",,,", ""));  // empty items never match
  EXPECT_FALSE(list_contains_token("a b", "a"));  // inner space is part of the item
}

TEST(HeaderRules, IequalsComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_FALSE(iequals("a-b", "a_b"));
  EXPECT_FALSE(iequals("@", "`"));  // 0x40 vs 0x60: not letters, not equal
  EXPECT_FALSE(iequals("[", "{"));
}

TEST(HeaderRules, BinaryKeysAreDropped) {
  for (std::string_view k : {"grpc-trace-bin", "my-key-bin", "My-Key-Bin", "X-Data-BIN", "-bin"}) {
    EXPECT_EQ(classify(k), HeaderAction::kDrop) << k;
  }
  // -bin wins over the grpc- rename.
  EXPECT_EQ(classify("grpc-status-details-bin"), HeaderAction::kDrop);
  EXPECT_EQ(classify("binary"), HeaderAction::kCopy);
  EXPECT_EQ(classify("x-bin-data"), HeaderAction::kCopy);
  EXPECT_EQ(classify("bin"), HeaderAction::kCopy);
}

TEST(HeaderRules, ContentTypeAndLengthAreDropped) {
  for (std::string_view k : {"content-type", "Content-Type", "content-length", "CONTENT-LENGTH"}) {
    EXPECT_EQ(classify(k), HeaderAction::kDrop) << k;
  }
  EXPECT_EQ(classify("Content-Encoding"), HeaderAction::kCopy);
  EXPECT_EQ(classify("Content-Language"), HeaderAction::kCopy);
}

TEST(HeaderRules, DestinationAppIdIsNeverPassedOn) {
  EXPECT_EQ(classify("destination-app-id"), HeaderAction::kDrop);
  EXPECT_EQ(classify("Destination-App-Id"), HeaderAction::kDrop);
  EXPECT_EQ(classify("dapr-callee-app-id"), HeaderAction::kCopy);
  EXPECT_EQ(classify("dapr-caller-app-id"), HeaderAction::kCopy);
}

TEST(HeaderRules, PseudoHeadersAreRenamed) {
  for (std::string_view k : {":method", ":scheme", ":path", ":authority"}) {
    EXPECT_EQ(classify(k), HeaderAction::kRename) << k;
  }
}

TEST(HeaderRules, GrpcKeysAreRenamed) {
  for (std::string_view k : {"grpc-timeout", "grpc-encoding", "Grpc-Status", "GRPC-MESSAGE",
                             "grpc-accept-encoding"}) {
    EXPECT_EQ(classify(k), HeaderAction::kRename) << k;
  }
  EXPECT_EQ(classify("grpc"), HeaderAction::kCopy);
  EXPECT_EQ(classify("x-grpc-thing"), HeaderAction::kCopy);
}

TEST(HeaderRules, BaggageKeepsOnlyItsFirstValue) {
  EXPECT_EQ(classify("baggage"), HeaderAction::kCopyFirst);
  EXPECT_EQ(classify("Baggage"), HeaderAction::kCopyFirst);
  EXPECT_EQ(classify("baggage-x"), HeaderAction::kCopy);
}

TEST(HeaderRules, TraceContextIsPassedOn) {
  // §5.3: the captured traceparent/tracestate are passed on by the trace step; grpc-trace-bin
  // is not copied as a header.
  EXPECT_EQ(classify("traceparent"), HeaderAction::kCopy);
  EXPECT_EQ(classify("Tracestate"), HeaderAction::kCopy);
  EXPECT_EQ(classify("grpc-trace-bin"), HeaderAction::kDrop);
}

TEST(HeaderRules, OrdinaryHeadersAreCopied) {
  // (dapr-api-token is not one: a caller's token never reaches an app, api_token_test.cc.)
  for (std::string_view k : {"X-My-Header", "accept", "User-Agent", "authorization",
                             "Cookie", "x-forwarded-for", "Forwarded"}) {
    EXPECT_EQ(classify(k), HeaderAction::kCopy) << k;
  }
}

TEST(HeaderRules, EveryConnectionHeaderValueNamesHopByHopHeaders) {
  // Two Connection headers: a header named in either one is hop-by-hop (spec §5.3).
  ConnectionTokens tokens;
  tokens.add("x-first");
  tokens.add("x-second, x-third");
  EXPECT_EQ(classify_metadata_key("X-First", tokens), HeaderAction::kDrop);
  EXPECT_EQ(classify_metadata_key("x-third", tokens), HeaderAction::kDrop);
  EXPECT_EQ(classify_metadata_key("x-fourth", tokens), HeaderAction::kCopy);
}

}  // namespace
}  // namespace ringside::invoke
