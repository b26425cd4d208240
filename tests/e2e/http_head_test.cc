// The blocking HTTP/1.1 parser behind the e2e client, the load generator and the example app:
// if it misreads, every e2e verdict is wrong, so it is tested on its own, malformed input first.
#include <gtest/gtest.h>

#include <array>

#include "tools/blocking_http/http_head.h"

namespace ringside::blocking_http {
namespace {

ParseResult Parse(std::string_view bytes, ParsedHead* head, std::array<HeaderField, 8>* fields) {
  return ParseHead(bytes, *fields, head);
}

TEST(HttpHeadTest, ParsesRequestHead) {
  std::array<HeaderField, 8> f;
  ParsedHead h;
  const std::string_view bytes = "POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-Y:  v w \r\n\r\nBODY";
  ASSERT_EQ(Parse(bytes, &h, &f), ParseResult::kComplete);
  EXPECT_EQ(h.token1, "POST");
  EXPECT_EQ(h.token2, "/a/b?x=1");
  EXPECT_EQ(h.token3, "HTTP/1.1");
  ASSERT_EQ(h.header_count, 2u);
  EXPECT_EQ(f[1].name, "X-Y");
  EXPECT_EQ(f[1].value, "v w");
  EXPECT_EQ(bytes.substr(h.length), "BODY");
}

TEST(HttpHeadTest, ParsesResponseWithMultiWordAndEmptyReason) {
  std::array<HeaderField, 8> f;
  ParsedHead h;
  ASSERT_EQ(Parse("HTTP/1.1 404 Not Found\r\n\r\n", &h, &f), ParseResult::kComplete);
  EXPECT_EQ(h.token2, "404");
  EXPECT_EQ(h.token3, "Not Found");
  ASSERT_EQ(Parse("HTTP/1.1 204\r\n\r\n", &h, &f), ParseResult::kComplete);
  EXPECT_EQ(h.token2, "204");
  EXPECT_EQ(h.token3, "");
}

TEST(HttpHeadTest, IncompleteUntilBlankLine) {
  std::array<HeaderField, 8> f;
  ParsedHead h;
  EXPECT_EQ(Parse("", &h, &f), ParseResult::kIncomplete);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: x\r\n", &h, &f), ParseResult::kIncomplete);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: x\r\n\r", &h, &f), ParseResult::kIncomplete);
}

TEST(HttpHeadTest, RejectsMalformedHeads) {
  std::array<HeaderField, 8> f;
  ParsedHead h;
  for (std::string_view bad : {
           std::string_view("\r\n\r\n"),                             // empty start line
           std::string_view("GET\r\n\r\n"),                          // one token
           std::string_view(" GET / HTTP/1.1\r\n\r\n"),              // leading space
           std::string_view("GET / HTTP/1.1\r\nNoColon\r\n\r\n"),    // header without colon
           std::string_view("GET / HTTP/1.1\r\n: v\r\n\r\n"),        // empty name
           std::string_view("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n"),  // space in name
           std::string_view("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"),   // obs-fold
           std::string_view("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"),     // control char in value
           std::string_view("GET /\x7f HTTP/1.1\r\n\r\n"),             // DEL in start line
       }) {
    EXPECT_EQ(Parse(bad, &h, &f), ParseResult::kMalformed) << bad;
  }
}

TEST(HttpHeadTest, OversizedHeadIsMalformedNotIncomplete) {
  std::array<HeaderField, 8> f;
  ParsedHead h;
  std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeadBytes, 'a');
  EXPECT_EQ(Parse(huge, &h, &f), ParseResult::kMalformed);
}

TEST(HttpHeadTest, TooManyHeadersIsReported) {
  std::array<HeaderField, 8> f;
  ParsedHead h;
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 9; ++i) head += "H: v\r\n";
  head += "\r\n";
  EXPECT_EQ(Parse(head, &h, &f), ParseResult::kTooManyHeaders);
}

TEST(HttpHeadTest, ChunkSizeLines) {
  uint64_t size = 0;
  size_t line = 0;
  ASSERT_EQ(ParseChunkSizeLine("1a\r\nxyz", &size, &line), ParseResult::kComplete);
  EXPECT_EQ(size, 26u);
  EXPECT_EQ(line, 4u);
  ASSERT_EQ(ParseChunkSizeLine("FF;name=value\r\n", &size, &line), ParseResult::kComplete);
  EXPECT_EQ(size, 255u);
  EXPECT_EQ(ParseChunkSizeLine("10", &size, &line), ParseResult::kIncomplete);
  EXPECT_EQ(ParseChunkSizeLine("\r\n", &size, &line), ParseResult::kMalformed);
  EXPECT_EQ(ParseChunkSizeLine("xyz\r\n", &size, &line), ParseResult::kMalformed);
  EXPECT_EQ(ParseChunkSizeLine("-1\r\n", &size, &line), ParseResult::kMalformed);
  EXPECT_EQ(ParseChunkSizeLine("1234567890abcdef0\r\n", &size, &line), ParseResult::kMalformed);
}

TEST(HttpHeadTest, ContentLengthAndTokens) {
  uint64_t n = 0;
  EXPECT_TRUE(ParseContentLength("0", &n));
  EXPECT_TRUE(ParseContentLength("1048576", &n));
  EXPECT_EQ(n, 1048576u);
  EXPECT_FALSE(ParseContentLength("", &n));
  EXPECT_FALSE(ParseContentLength("-1", &n));
  EXPECT_FALSE(ParseContentLength("1 2", &n));
  EXPECT_FALSE(ParseContentLength("99999999999999999999", &n));
  EXPECT_TRUE(HasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(HasToken("chunked", "CHUNKED"));
  EXPECT_FALSE(HasToken("gzip, chunkedx", "chunked"));
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-length"));
}

}  // namespace
}  // namespace ringside::blocking_http
