// GrpcServerConnection framework rules, driven by a raw nghttp2 client that can send what a
// well-behaved gRPC client never would.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <string>
#include <utility>
#include <vector>

#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/status.h"
#include "tests/unit/grpc/pair_harness.h"

namespace ringside::grpc {
namespace {

// One request on a raw nghttp2 client session; records what came back.
struct RawExchange {
  std::string body;            // DATA bytes to send (already framed or deliberately broken)
  size_t body_sent = 0;        // how much of it nghttp2 took
  std::string http_status;     // ":status"
  std::string grpc_status;     // "grpc-status" (headers or trailers)
  std::string grpc_message;    // raw "grpc-message"
  uint32_t close_error = 0;    // error code of stream close
  bool closed = false;         // stream closed

  static ssize_t read(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                      nghttp2_data_source* src, void*) {
    auto* x = static_cast<RawExchange*>(src->ptr);
    size_t n = std::min(len, x->body.size() - x->body_sent);
    memcpy(buf, x->body.data() + x->body_sent, n);
    x->body_sent += n;
    if (x->body_sent == x->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int on_header(nghttp2_session*, const nghttp2_frame*, const uint8_t* n, size_t nl,
                       const uint8_t* v, size_t vl, uint8_t, void* ud) {
    auto* x = static_cast<RawExchange*>(ud);
    std::string k(reinterpret_cast<const char*>(n), nl), val(reinterpret_cast<const char*>(v), vl);
    if (k == ":status") x->http_status = val;
    if (k == "grpc-status") x->grpc_status = val;
    if (k == "grpc-message") x->grpc_message = val;
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t, uint32_t err, void* ud) {
    auto* x = static_cast<RawExchange*>(ud);
    x->closed = true;
    x->close_error = err;
    return 0;
  }
};

struct NullHandler : ServerHandler {
  int requests = 0;
  GrpcServerConnection* conn = nullptr;
  void on_unary_request(const UnaryRequest& req) override {
    ++requests;
    conn->respond(req.id, {}, req.message, 0, "", {});
  }
  void on_call_cancelled(CallId) override {}
};

RawExchange run(std::vector<std::pair<std::string, std::string>> headers, std::string body,
                bool send_body = true, uint32_t max_message = 1024, int* requests = nullptr) {
  RawExchange x;
  x.body = std::move(body);
  mem::ShardPool pool;
  NullHandler h;
  GrpcServerConnection server(&pool, &h, max_message);
  h.conn = &server;
  EXPECT_TRUE(server.start());

  nghttp2_session_callbacks* cbs;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, RawExchange::on_header);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, RawExchange::on_close);
  nghttp2_session* client;
  nghttp2_session_client_new(&client, cbs, &x);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, nullptr, 0);

  std::vector<nghttp2_nv> nv;
  for (auto& [k, v] : headers) {
    nv.push_back({reinterpret_cast<uint8_t*>(k.data()), reinterpret_cast<uint8_t*>(v.data()),
                  k.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider prov;
  prov.source.ptr = &x;
  prov.read_callback = RawExchange::read;
  EXPECT_GT(nghttp2_submit_request(client, nullptr, nv.data(), nv.size(),
                                   send_body ? &prov : nullptr, nullptr),
            0);
  mem::Buffer s2c(&pool);
  for (int i = 0; i < 1000 && !x.closed; ++i) {
    const uint8_t* p;
    ssize_t n;
    bool moved = false;
    while ((n = nghttp2_session_mem_send(client, &p)) > 0) {
      moved = true;
      server.feed(p, static_cast<size_t>(n));
    }
    server.flush_to(&s2c);
    if (!s2c.empty()) {
      moved = true;
      nghttp2_session_mem_recv(client, s2c.data(), s2c.size());
      s2c.clear();
    }
    if (!moved) break;
  }
  nghttp2_session_del(client);
  if (requests) *requests = h.requests;
  EXPECT_EQ(server.active_calls(), 0u);
  return x;
}

std::vector<std::pair<std::string, std::string>> grpc_headers(std::string method = "POST",
                                                               std::string ctype =
                                                                   "application/grpc") {
  return {{":method", method}, {":scheme", "http"}, {":path", "/a.B/C"},
          {":authority", "x"}, {"content-type", ctype}, {"te", "trailers"}};
}

std::string frame(std::string_view msg, uint8_t flag = 0) {
  uint8_t p[kMessagePrefixSize];
  write_message_prefix(static_cast<uint32_t>(msg.size()), p);
  p[0] = flag;
  return std::string(reinterpret_cast<char*>(p), sizeof p) + std::string(msg);
}

TEST(GrpcServerRules, WellFormedRequestReachesHandler) {
  int requests = 0;
  RawExchange x = run(grpc_headers(), frame("hi"), true, 1024, &requests);
  EXPECT_EQ(requests, 1);
  EXPECT_EQ(x.http_status, "200");
  EXPECT_EQ(x.grpc_status, "0");
}

TEST(GrpcServerRules, ContentSubtypeProtoIsAccepted) {
  int requests = 0;
  run(grpc_headers("POST", "application/grpc+proto"), frame("hi"), true, 1024, &requests);
  EXPECT_EQ(requests, 1);
}

TEST(GrpcServerRules, NotPostIs405) {
  int requests = 0;
  RawExchange x = run(grpc_headers("GET"), "", false, 1024, &requests);
  EXPECT_EQ(requests, 0);
  EXPECT_EQ(x.http_status, "405");
}

TEST(GrpcServerRules, WrongContentTypeIs415) {
  int requests = 0;
  RawExchange x = run(grpc_headers("POST", "application/json"), frame("hi"), true, 1024, &requests);
  EXPECT_EQ(requests, 0);
  EXPECT_EQ(x.http_status, "415");
  RawExchange y = run(grpc_headers("POST", "application/grpcx"), frame("hi"));
  EXPECT_EQ(y.http_status, "415");
}

TEST(GrpcServerRules, BadPrefixFlagIsInternal) {
  RawExchange x = run(grpc_headers(), frame("hi", 7));
  EXPECT_EQ(x.http_status, "200");
  EXPECT_EQ(x.grpc_status, "13");
}

TEST(GrpcServerRules, CompressedIsUnimplemented) {
  RawExchange x = run(grpc_headers(), frame("hi", 1));
  EXPECT_EQ(x.grpc_status, "12");
  EXPECT_EQ(x.grpc_message, "compression not supported");
}

TEST(GrpcServerRules, TwoMessagesOnUnaryIsInternal) {
  int requests = 0;
  RawExchange x = run(grpc_headers(), frame("a") + frame("b"), true, 1024, &requests);
  EXPECT_EQ(requests, 0);
  EXPECT_EQ(x.grpc_status, "13");
}

TEST(GrpcServerRules, TruncatedAtEndStreamIsInternal) {
  RawExchange x = run(grpc_headers(), frame("abcdef").substr(0, 7));
  EXPECT_EQ(x.grpc_status, "13");
}

TEST(GrpcServerRules, NoMessageIsInternal) {
  RawExchange x = run(grpc_headers(), "", false);
  EXPECT_EQ(x.grpc_status, "13");
}

TEST(GrpcServerRules, OversizeIsResourceExhaustedBeforeTheBodyArrives) {
  int requests = 0;
  RawExchange x = run(grpc_headers(), frame(std::string(100000, 'x')), true, 1024, &requests);
  EXPECT_EQ(requests, 0);
  EXPECT_EQ(x.grpc_status, "8");
  EXPECT_TRUE(x.closed);
}

TEST(GrpcServerRules, MalformedTimeoutIsInternal) {
  auto h = grpc_headers();
  h.push_back({"grpc-timeout", "soon"});
  RawExchange x = run(h, frame("hi"));
  EXPECT_EQ(x.grpc_status, "13");
}

}  // namespace
}  // namespace ringside::grpc
