#include "dataplane/http1/response_parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ringside::http1 {
namespace {

struct Parsed {
  ParseStatus status;
  std::unique_ptr<ResponseHead> head = std::make_unique<ResponseHead>();
};

Parsed parse(std::string_view s, bool was_head = false, size_t max = 8192) {
  Parsed p;
  p.status = parse_response_head(s, max, was_head, p.head.get());
  return p;
}

TEST(ResponseParser, StatusLineVariants) {
  Parsed ok = parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_EQ(ok.status, ParseStatus::kComplete);
  EXPECT_EQ(ok.head->status, 200);
  EXPECT_EQ(ok.head->reason, "OK");
  EXPECT_EQ(ok.head->body_kind, BodyKind::kLength);
  EXPECT_EQ(ok.head->content_length, 2u);
  EXPECT_TRUE(ok.head->keep_alive);
  EXPECT_EQ(ok.head->head_size, 38u);

  Parsed multi = parse("HTTP/1.1 404 Not  Found here\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(multi.status, ParseStatus::kComplete);
  EXPECT_EQ(multi.head->reason, "Not  Found here");
  Parsed empty_reason = parse("HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(empty_reason.status, ParseStatus::kComplete);
  EXPECT_EQ(empty_reason.head->reason, "");
  Parsed no_reason = parse("HTTP/1.1 299\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(no_reason.status, ParseStatus::kComplete);
  EXPECT_EQ(no_reason.head->status, 299);

  EXPECT_EQ(parse("HTTP/1.1 20 OK\r\n\r\n").status, ParseStatus::kError);
  EXPECT_EQ(parse("HTTP/1.1 2000 OK\r\n\r\n").status, ParseStatus::kError);
  EXPECT_EQ(parse("HTTP/1.1 abc OK\r\n\r\n").status, ParseStatus::kError);
  EXPECT_EQ(parse("HTTP/1.1 099 Low\r\n\r\n").status, ParseStatus::kError);
  EXPECT_EQ(parse("HTTP/1.1  200 OK\r\n\r\n").status, ParseStatus::kError);
  EXPECT_EQ(parse("HTTP/1.1 200 O\x01K\r\n\r\n").status, ParseStatus::kError);
  Parsed v2 = parse("HTTP/2.0 200 OK\r\n\r\n");
  EXPECT_EQ(v2.status, ParseStatus::kError);
  EXPECT_EQ(v2.head->error_status, 505);
  // Garbage is refused at the first byte, without waiting for a full head.
  EXPECT_EQ(parse("<html>").status, ParseStatus::kError);
  EXPECT_EQ(parse("HTT").status, ParseStatus::kIncomplete);
}

TEST(ResponseParser, NoBodyCases) {
  for (const char* r : {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                        "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"}) {
    Parsed p = parse(r);
    ASSERT_EQ(p.status, ParseStatus::kComplete) << r;
    EXPECT_EQ(p.head->body_kind, BodyKind::kNone) << r;
    EXPECT_TRUE(p.head->keep_alive) << r;
  }
  Parsed head = parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", /*was_head=*/true);
  ASSERT_EQ(head.status, ParseStatus::kComplete);
  EXPECT_EQ(head.head->body_kind, BodyKind::kNone);
}

TEST(ResponseParser, InterimThenFinalInOneBuffer) {
  std::string both = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx";
  Parsed interim = parse(both);
  ASSERT_EQ(interim.status, ParseStatus::kComplete);
  EXPECT_EQ(interim.head->status, 100);
  Parsed final_head = parse(std::string_view(both).substr(interim.head->head_size));
  ASSERT_EQ(final_head.status, ParseStatus::kComplete);
  EXPECT_EQ(final_head.head->status, 201);
}

TEST(ResponseParser, UntilClose) {
  Parsed p = parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstream...");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->body_kind, BodyKind::kUntilClose);
  EXPECT_FALSE(p.head->keep_alive);
}

TEST(ResponseParser, Chunked) {
  Parsed p = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->body_kind, BodyKind::kChunked);
  EXPECT_TRUE(p.head->keep_alive);
  // Both framings: chunked wins, and the connection is not reused.
  Parsed both = parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(both.status, ParseStatus::kComplete);
  EXPECT_EQ(both.head->body_kind, BodyKind::kChunked);
  EXPECT_FALSE(both.head->keep_alive);
  Parsed gzip = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(gzip.status, ParseStatus::kError);
  EXPECT_EQ(gzip.head->error_status, 501);
}

TEST(ResponseParser, KeepAliveAndLengthErrors) {
  Parsed close = parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(close.head->keep_alive);
  Parsed old = parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(old.head->keep_alive);
  Parsed old_ka = parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(old_ka.head->keep_alive);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").status, ParseStatus::kError);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").status, ParseStatus::kError);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n").status, ParseStatus::kError);
}

TEST(ResponseParser, SplitAtEveryOffset) {
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  Parsed full = parse(resp);
  ASSERT_EQ(full.status, ParseStatus::kComplete);
  for (size_t cut = 0; cut < resp.size(); ++cut) {
    Parsed part = parse(std::string_view(resp).substr(0, cut));
    if (cut < full.head->head_size) {
      EXPECT_EQ(part.status, ParseStatus::kIncomplete) << cut;
    } else {
      ASSERT_EQ(part.status, ParseStatus::kComplete) << cut;
      EXPECT_EQ(part.head->head_size, full.head->head_size);
    }
  }
}

TEST(ResponseParser, HeadTooLarge) {
  std::string resp = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
  Parsed p = parse(resp, false, 64);
  EXPECT_EQ(p.status, ParseStatus::kError);
  EXPECT_EQ(p.head->error_status, 431);
}

// The head is parsed once; when its bytes move (the buffer grew), rebase_response_head points
// every view at the new copy, and the old copy can be overwritten.
TEST(ResponseParser, RebasedHeadReadsTheMovedBytes) {
  std::string first = "HTTP/1.1 201 Made It\r\nContent-Type: text/plain\r\nX-A: one\r\nContent-Length: 2\r\n\r\nhi";
  auto head = std::make_unique<ResponseHead>();
  ASSERT_EQ(parse_response_head(first, 8192, false, head.get()), ParseStatus::kComplete);
  std::string moved = first + "more bytes after";
  rebase_response_head(head.get(), first.data(), moved.data());
  first.assign(first.size(), '#');  // the old copy is gone
  EXPECT_EQ(head->reason, "Made It");
  ASSERT_EQ(head->header_count, 3u);
  EXPECT_EQ(head->headers[0].name, "Content-Type");
  EXPECT_EQ(head->headers[0].value, "text/plain");
  EXPECT_EQ(head->headers[1].value, "one");
  EXPECT_EQ(head->content_length, 2u);
  EXPECT_EQ(moved.substr(head->head_size, 2), "hi");
}

}  // namespace
}  // namespace ringside::http1
