#include "dataplane/http1/chunked_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace ringside::http1 {
namespace {

constexpr uint64_t kNoLimit = UINT64_MAX;

struct Result {
  ParseStatus status;
  std::string payload;
  size_t consumed;
  int error;
};

// Feeds the whole body in one call.
Result decode_all(std::string body, uint64_t max = kNoLimit) {
  ChunkedDecoder d;
  std::vector<uint8_t> region(body.begin(), body.end());
  ParseStatus s = d.decode(region.data(), region.size(), max);
  return {s, std::string(region.begin(), region.begin() + static_cast<long>(d.payload_size())),
          d.consumed(), d.error_status()};
}

// Feeds the body split at `cut`, moving the region to a new allocation between the calls, the
// way a receive buffer may be reallocated.
Result decode_split(const std::string& body, size_t cut, uint64_t max = kNoLimit) {
  ChunkedDecoder d;
  std::vector<uint8_t> first(body.begin(), body.begin() + static_cast<long>(cut));
  ParseStatus s = d.decode(first.data(), first.size(), max);
  if (s == ParseStatus::kIncomplete) {
    std::vector<uint8_t> moved(first);  // keeps content (including in-place changes)
    moved.insert(moved.end(), body.begin() + static_cast<long>(cut), body.end());
    first.assign(first.size(), 0xEE);  // the old storage is gone
    s = d.decode(moved.data(), moved.size(), max);
    first = moved;
  }
  return {s, std::string(first.begin(), first.begin() + static_cast<long>(d.payload_size())),
          d.consumed(), d.error_status()};
}

TEST(ChunkedDecoder, SimpleBody) {
  std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  Result r = decode_all(body);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.payload, "hello world");
  EXPECT_EQ(r.consumed, body.size());
}

TEST(ChunkedDecoder, ExtensionsTrailersAndHexCase) {
  std::string body = "A;name=value;flag\r\n0123456789\r\n1f ; x=\"q\"\r\n" + std::string(31, 'z') +
                     "\r\n0;last\r\nTrailer-A: 1\r\nTrailer-B: two\r\n\r\n";
  Result r = decode_all(body);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.payload, "0123456789" + std::string(31, 'z'));
  EXPECT_EQ(r.consumed, body.size());
}

TEST(ChunkedDecoder, PipelinedBytesAfterBodyAreLeftAlone) {
  std::string next = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string body = "3\r\nabc\r\n0\r\n\r\n";
  std::string all = body + next;
  std::vector<uint8_t> region(all.begin(), all.end());
  ChunkedDecoder d;
  ASSERT_EQ(d.decode(region.data(), region.size(), kNoLimit), ParseStatus::kComplete);
  EXPECT_EQ(d.consumed(), body.size());
  EXPECT_EQ(std::string(region.begin() + static_cast<long>(d.consumed()), region.end()), next);
  EXPECT_EQ(std::string(region.begin(), region.begin() + 3), "abc");
}

TEST(ChunkedDecoder, SplitAtEveryOffsetAndMovedRegion) {
  std::string body = "4;e=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: v\r\n\r\n";
  Result whole = decode_all(body);
  ASSERT_EQ(whole.status, ParseStatus::kComplete);
  EXPECT_EQ(whole.payload, "Wikipedia in\r\n\r\nchunks.");
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    Result r = decode_split(body, cut);
    ASSERT_EQ(r.status, ParseStatus::kComplete) << cut;
    EXPECT_EQ(r.payload, whole.payload) << cut;
    EXPECT_EQ(r.consumed, body.size()) << cut;
  }
}

// A forwarding reader removes the payload it handed on from the front of its buffer between
// feeds (memory stays at a window, not the body): decoding goes on and nothing is lost.
TEST(ChunkedDecoder, DiscardingForwardedPayloadBetweenFeeds) {
  std::string body;
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    std::string chunk(static_cast<size_t>(1 + i * 37 % 300), static_cast<char>('a' + i % 26));
    char size[16];
    snprintf(size, sizeof size, "%zx", chunk.size());
    body += std::string(size) + (i % 3 ? ";ext=1" : "") + "\r\n" + chunk + "\r\n";
    expected += chunk;
  }
  body += "0\r\nX-Trailer: t\r\n\r\nNEXT";
  for (size_t step : {1u, 7u, 100u, 4096u}) {
    ChunkedDecoder d;
    std::string buffer;  // what the reader holds: undiscarded payload + undecoded input
    std::string forwarded;
    size_t fed = 0;
    ParseStatus s = ParseStatus::kIncomplete;
    for (size_t guard = 0; guard <= body.size() && s == ParseStatus::kIncomplete; ++guard) {
      size_t n = std::min(step, body.size() - fed);
      buffer += body.substr(fed, n);
      fed += n;
      s = d.decode(reinterpret_cast<uint8_t*>(buffer.data()), buffer.size(), kNoLimit);
      ASSERT_NE(s, ParseStatus::kError) << step;
      // Forward and drop the payload decoded so far.
      forwarded += buffer.substr(0, d.payload_size());
      if (s == ParseStatus::kIncomplete) {
        buffer.erase(0, d.payload_size());
        d.discard_payload(d.payload_size());
      }
    }
    ASSERT_EQ(s, ParseStatus::kComplete) << step;
    EXPECT_EQ(forwarded.size(), expected.size()) << step;
    EXPECT_TRUE(forwarded == expected) << step;
    // What follows the body is left where consumed() says.
    EXPECT_EQ(buffer.substr(d.consumed()), body.substr(body.size() - 4, fed - (body.size() - 4)))
        << step;
  }
}

TEST(ChunkedDecoder, ByteAtATime) {
  std::string body = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  std::vector<uint8_t> region(body.begin(), body.end());
  ChunkedDecoder d;
  ParseStatus s = ParseStatus::kIncomplete;
  for (size_t len = 1; len <= region.size(); ++len) {
    s = d.decode(region.data(), len, kNoLimit);
    if (len < region.size()) {
      EXPECT_EQ(s, ParseStatus::kIncomplete) << len;
    }
  }
  ASSERT_EQ(s, ParseStatus::kComplete);
  EXPECT_EQ(std::string(region.begin(), region.begin() + 5), "abcde");
  EXPECT_EQ(d.payload_size(), 5u);
}

TEST(ChunkedDecoder, BareLfOnSizeAndTrailerLines) {
  Result r = decode_all("3\nabc\r\n0\nX: y\n\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.payload, "abc");
}

TEST(ChunkedDecoder, PayloadLimit) {
  Result ok = decode_all("5\r\nhello\r\n0\r\n\r\n", 5);
  EXPECT_EQ(ok.status, ParseStatus::kComplete);
  Result over = decode_all("5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n", 5);
  EXPECT_EQ(over.status, ParseStatus::kError);
  EXPECT_EQ(over.error, 413);
  // Refused as soon as the size line says so, before any data arrives.
  Result early = decode_all("ffffff\r\n", 1024);
  EXPECT_EQ(early.status, ParseStatus::kError);
  EXPECT_EQ(early.error, 413);
}

TEST(ChunkedDecoder, MalformedInput) {
  for (std::string bad : {
           "\r\n",                      // no size
           "g\r\n",                     // not hex
           "-1\r\n",                    // sign
           " 5\r\nhello\r\n",           // leading space
           "5\r\nhelloXX",              // data not followed by CRLF
           "5\r\nhello\n0\r\n\r\n",     // bare LF after data (Go requires CRLF there)
           "5\r\nhello\rX",             // CR then junk
           "5\rX",                      // CR then junk on the size line
           "5 x\r\n",                   // junk after the size
           "5;ext\x01\r\n",             // control character in an extension
           "11111111111111111\r\n",     // 17 hex digits
           "0\r\nBad\x01Trailer\r\n\r\n",
           "0\r\nX: y\rZ\r\n\r\n",
       }) {
    Result r = decode_all(bad);
    EXPECT_EQ(r.status, ParseStatus::kError) << bad;
    EXPECT_EQ(r.error, 400) << bad;
  }
}

TEST(ChunkedDecoder, TooMuchFramingOverhead) {
  // One-byte chunks with long extensions: Go refuses this ("too much non-data"), so do we.
  std::string body;
  for (int i = 0; i < 200; ++i) body += "1;" + std::string(100, 'e') + "\r\nx\r\n";
  Result r = decode_all(body);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error, 400);
  // A single unterminated extension line is cut off as well.
  Result line = decode_all("1;" + std::string(20000, 'e'));
  EXPECT_EQ(line.status, ParseStatus::kError);
  // Ordinary small chunks are fine.
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "1\r\nx\r\n";
  many += "0\r\n\r\n";
  EXPECT_EQ(decode_all(many).status, ParseStatus::kComplete);
}

TEST(ChunkedDecoder, ErrorIsStickyAndResetRecovers) {
  ChunkedDecoder d;
  std::string bad = "zz\r\n";
  std::vector<uint8_t> region(bad.begin(), bad.end());
  EXPECT_EQ(d.decode(region.data(), region.size(), kNoLimit), ParseStatus::kError);
  EXPECT_EQ(d.decode(region.data(), region.size(), kNoLimit), ParseStatus::kError);
  d.reset();
  std::string good = "0\r\n\r\n";
  std::vector<uint8_t> r2(good.begin(), good.end());
  EXPECT_EQ(d.decode(r2.data(), r2.size(), kNoLimit), ParseStatus::kComplete);
  EXPECT_EQ(d.payload_size(), 0u);
  EXPECT_EQ(d.consumed(), good.size());
}

}  // namespace
}  // namespace ringside::http1
