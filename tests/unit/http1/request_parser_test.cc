#include "dataplane/http1/request_parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ringside::http1 {
namespace {

constexpr size_t kMax = 8192;

struct Parsed {
  ParseStatus status;
  std::unique_ptr<RequestHead> head = std::make_unique<RequestHead>();
};

Parsed parse(std::string_view s, size_t max = kMax) {
  Parsed p;
  p.status = parse_request_head(s, max, p.head.get());
  return p;
}

int error_of(std::string_view s, size_t max = kMax) {
  Parsed p = parse(s, max);
  EXPECT_EQ(p.status, ParseStatus::kError) << s;
  return p.head->error_status;
}

TEST(RequestParser, SimpleGet) {
  std::string req = "GET /v1.0/invoke/app/method/hello?a=1&b=%20 HTTP/1.1\r\nHost: localhost:3500\r\n"
                    "User-Agent: curl/8\r\nAccept: */*\r\n\r\n";
  Parsed p = parse(req);
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  const RequestHead& h = *p.head;
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/v1.0/invoke/app/method/hello?a=1&b=%20");
  EXPECT_EQ(h.path, "/v1.0/invoke/app/method/hello");
  EXPECT_EQ(h.query, "a=1&b=%20");
  EXPECT_EQ(h.minor_version, 1);
  EXPECT_EQ(h.header_count, 3u);
  EXPECT_EQ(h.headers[0].name, "Host");
  EXPECT_EQ(h.headers[0].value, "localhost:3500");
  EXPECT_EQ(h.head_size, req.size());
  EXPECT_EQ(h.body_kind, BodyKind::kNone);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.expect_continue);
  ASSERT_NE(h.find("user-agent"), nullptr);
  EXPECT_EQ(h.find("user-agent")->value, "curl/8");
  EXPECT_EQ(h.find("missing"), nullptr);
}

TEST(RequestParser, EveryVerbAndExtensionMethod) {
  for (std::string m : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "PROPFIND", "get"}) {
    std::string req = m + " /x HTTP/1.1\r\nHost: h\r\n\r\n";
    Parsed p = parse(req);
    ASSERT_EQ(p.status, ParseStatus::kComplete) << m;
    EXPECT_EQ(p.head->method, m);
  }
  Parsed c = parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  ASSERT_EQ(c.status, ParseStatus::kComplete);
  EXPECT_EQ(c.head->target, "example.com:443");
  EXPECT_EQ(c.head->path, "");
  Parsed o = parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(o.status, ParseStatus::kComplete);
  EXPECT_EQ(o.head->path, "*");
}

TEST(RequestParser, AbsoluteFormTarget) {
  Parsed p = parse("GET http://localhost:3500/v1.0/invoke/a/method/m?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->path, "/v1.0/invoke/a/method/m");
  EXPECT_EQ(p.head->query, "x=1");
  Parsed q = parse("GET http://localhost HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_EQ(q.status, ParseStatus::kComplete);
  EXPECT_EQ(q.head->path, "");
}

TEST(RequestParser, QueryEdgeCases) {
  Parsed p = parse("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->path, "/p");
  EXPECT_EQ(p.head->query, "");
  Parsed f = parse("GET /p#frag?x HTTP/1.1\r\nHost: h\r\n\r\n");  // Go keeps '#' in the path
  ASSERT_EQ(f.status, ParseStatus::kComplete);
  EXPECT_EQ(f.head->path, "/p#frag");
  EXPECT_EQ(f.head->query, "x");
}

TEST(RequestParser, ContentLengthBody) {
  std::string req = "POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  Parsed p = parse(req);
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->body_kind, BodyKind::kLength);
  EXPECT_EQ(p.head->content_length, 5u);
  EXPECT_EQ(req.substr(p.head->head_size), "hello");
  Parsed zero = parse("POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(zero.status, ParseStatus::kComplete);
  EXPECT_EQ(zero.head->body_kind, BodyKind::kNone);
  Parsed same = parse("POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n");
  ASSERT_EQ(same.status, ParseStatus::kComplete);
  EXPECT_EQ(same.head->content_length, 3u);
}

TEST(RequestParser, ChunkedBody) {
  Parsed p = parse("POST /m HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->body_kind, BodyKind::kChunked);
}

TEST(RequestParser, PipelinedPairInOneBuffer) {
  std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string both = first + second;
  Parsed p1 = parse(both);
  ASSERT_EQ(p1.status, ParseStatus::kComplete);
  EXPECT_EQ(p1.head->path, "/a");
  size_t next = p1.head->head_size + p1.head->content_length;
  EXPECT_EQ(next, first.size());
  Parsed p2 = parse(std::string_view(both).substr(next));
  ASSERT_EQ(p2.status, ParseStatus::kComplete);
  EXPECT_EQ(p2.head->path, "/b");
  EXPECT_EQ(p2.head->head_size, second.size());
}

TEST(RequestParser, SplitAtEveryOffsetGivesSameResult) {
  std::string req = "PUT /v1.0/invoke/app/method/x?q=1 HTTP/1.1\r\nHost: h\r\nX-A:  spaced value \r\n"
                    "Content-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
  Parsed full = parse(req);
  ASSERT_EQ(full.status, ParseStatus::kComplete);
  for (size_t cut = 0; cut < full.head->head_size; ++cut) {
    Parsed part = parse(std::string_view(req).substr(0, cut));
    EXPECT_EQ(part.status, ParseStatus::kIncomplete) << "cut " << cut;
  }
  for (size_t cut = full.head->head_size; cut <= req.size(); ++cut) {
    Parsed part = parse(std::string_view(req).substr(0, cut));
    ASSERT_EQ(part.status, ParseStatus::kComplete) << "cut " << cut;
    EXPECT_EQ(part.head->head_size, full.head->head_size);
    EXPECT_EQ(part.head->header_count, full.head->header_count);
    EXPECT_EQ(part.head->find("x-a")->value, "spaced value");
    EXPECT_EQ(part.head->content_length, 2u);
  }
}

TEST(RequestParser, ExpectContinue) {
  Parsed p = parse("POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nExpect: 100-Continue\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_TRUE(p.head->expect_continue);
  // Nothing to wait for without a body, and HTTP/1.0 has no 100 Continue (as Go).
  Parsed nobody = parse("GET /m HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(nobody.status, ParseStatus::kComplete);
  EXPECT_FALSE(nobody.head->expect_continue);
  Parsed old = parse("POST /m HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(old.status, ParseStatus::kComplete);
  EXPECT_FALSE(old.head->expect_continue);
  EXPECT_EQ(error_of("POST /m HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n"), 417);
}

TEST(RequestParser, KeepAliveRules) {
  auto ka = [](std::string_view req) {
    Parsed p = parse(req);
    EXPECT_EQ(p.status, ParseStatus::kComplete) << req;
    return p.head->keep_alive;
  };
  EXPECT_TRUE(ka("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(ka("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"));
  Parsed p = parse("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(p.head->minor_version, 0);
}

TEST(RequestParser, HostRules) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n").status, ParseStatus::kComplete);
}

TEST(RequestParser, SmugglingAndFramingErrors) {
  // Content-Length together with Transfer-Encoding.
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400);
  // Differing Content-Length values, lists, signs, junk.
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n"), 400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n"), 400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n"), 400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"), 400);
  // Huge lengths: above int64 or overflowing uint64.
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n"), 400);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400);
  Parsed big = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
  ASSERT_EQ(big.status, ParseStatus::kComplete);
  EXPECT_EQ(big.head->content_length, 9223372036854775807ull);
  // Unsupported transfer codings → 501 (as Go).
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  // Transfer-Encoding in HTTP/1.0 means broken framing.
  EXPECT_EQ(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST(RequestParser, ObsFoldRejected) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
}

TEST(RequestParser, BareLfAcceptedStrayCrRejected) {
  Parsed p = parse("GET /lf HTTP/1.1\nHost: h\nX-A: b\n\nrest");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->path, "/lf");
  EXPECT_EQ(p.head->header_count, 2u);
  EXPECT_EQ(p.head->find("x-a")->value, "b");
  EXPECT_EQ(p.head->head_size, 33u);
  Parsed mixed = parse("GET / HTTP/1.1\r\nHost: h\n\r\n");
  ASSERT_EQ(mixed.status, ParseStatus::kComplete);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParser, LeadingEmptyLinesSkipped) {
  std::string req = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  Parsed p = parse(req);
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->method, "GET");
  EXPECT_EQ(p.head->head_size, req.size());
  EXPECT_EQ(parse("\r\n").status, ParseStatus::kIncomplete);
  EXPECT_EQ(error_of("\rGET / HTTP/1.1\r\n\r\n"), 400);
}

TEST(RequestParser, TooManyHeaders) {
  std::string req = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 0; i < kMaxHeaders; ++i) req += "X-" + std::to_string(i) + ": v\r\n";
  req += "\r\n";
  EXPECT_EQ(error_of(req, 1 << 20), 431);
  // Exactly kMaxHeaders is fine.
  std::string ok = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 0; i + 1 < kMaxHeaders; ++i) ok += "X-" + std::to_string(i) + ": v\r\n";
  ok += "\r\n";
  Parsed p = parse(ok, 1 << 20);
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->header_count, kMaxHeaders);
}

TEST(RequestParser, HeadTooLarge) {
  std::string req = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(error_of(req, 100), 431);
  // Also while still incomplete, once the limit is passed.
  EXPECT_EQ(error_of(std::string_view(req).substr(0, 150), 100), 431);
  EXPECT_EQ(parse(std::string_view(req).substr(0, 99), 100).status, ParseStatus::kIncomplete);
  // A head of exactly the limit fits.
  EXPECT_EQ(parse(req, req.size()).status, ParseStatus::kComplete);
  EXPECT_EQ(error_of(req, req.size() - 1), 431);
}

TEST(RequestParser, BadVersion) {
  EXPECT_EQ(error_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(error_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(error_of("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / http/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET /\r\nHost: h\r\n\r\n"), 400);
  Parsed p = parse("GET / HTTP/1.7\r\nHost: h\r\n\r\n");  // unknown 1.x minor: served as 1.1 (as Go)
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->minor_version, 7);
}

TEST(RequestParser, InvalidTokensAndLines) {
  EXPECT_EQ(error_of("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("\x16\x03\x01\x02\x00"), 400);  // TLS ClientHello fails before the head ends
  EXPECT_EQ(error_of(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET relative HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nName : v\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01" "b\r\n\r\n"), 400);
  EXPECT_EQ(error_of(std::string("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n", 37)), 400);
  // Bad %-escapes in the path are rejected (as Go's URL parser); the query is not checked.
  EXPECT_EQ(error_of("GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(error_of("GET /a%2 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET /a?%zz HTTP/1.1\r\nHost: h\r\n\r\n").status, ParseStatus::kComplete);
  // obs-text in values is allowed.
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\r\n\r\n").status, ParseStatus::kComplete);
}

TEST(RequestParser, EmptyHeaderValueAndTrimming) {
  Parsed p = parse("GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Tabs:\t v \t\r\n\r\n");
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head->find("x-empty")->value, "");
  EXPECT_EQ(p.head->find("x-tabs")->value, "v");
}

}  // namespace
}  // namespace ringside::http1
