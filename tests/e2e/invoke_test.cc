// HTTP invocation through two sidecars (spec §4.1, §5.1–§5.3, §5.6, §5.7, §9):
//   client ──► a ──► b ──► ringside-echo-app
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/inspected_request.h"
#include "tests/e2e/topology.h"

namespace ringside::e2e {
namespace {

class InvokeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    topology_ = new Topology;
    // A small limit keeps the over-limit test cheap; 1 MiB bodies still fit.
    start_status_ = new absl::Status(topology_->Start({.max_body_size = "2Mi"}));
  }
  static void TearDownTestSuite() {
    delete topology_;
    delete start_status_;
  }
  void SetUp() override { ASSERT_TRUE(start_status_->ok()) << *start_status_; }
  void TearDown() override {
    // A failed start already reported the logs.
    if (HasFailure() && start_status_->ok()) std::cerr << topology_->Logs();
  }

  static uint16_t a_port() { return topology_->a.ports.http; }
  static uint16_t b_port() { return topology_->b.ports.http; }

  // POSTs to the app's /inspect through a and parses what the app saw.
  static InspectedRequest InspectThroughA(std::vector<std::pair<std::string, std::string>> headers,
                                          std::string body = "x") {
    auto r = Invoke(a_port(), "POST", "b", "inspect", std::move(body), std::move(headers));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    EXPECT_EQ(r->status(), 200) << r->body;
    auto inspected = ParseInspectedRequest(r->body);
    EXPECT_TRUE(inspected.has_value()) << r->body;
    return inspected.value_or(InspectedRequest{});
  }

  static Topology* topology_;
  static absl::Status* start_status_;
};

Topology* InvokeTest::topology_ = nullptr;
absl::Status* InvokeTest::start_status_ = nullptr;

void ExpectDirectInvokeError(const absl::StatusOr<HttpMessage>& r, int status) {
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), status) << r->body;
  EXPECT_EQ(JsonStringField(r->body, "errorCode"), "ERR_DIRECT_INVOKE") << r->body;
  EXPECT_FALSE(JsonStringField(r->body, "message").empty()) << r->body;
  EXPECT_NE(r->header("Content-Type").find("application/json"), std::string_view::npos);
}

TEST_F(InvokeTest, HealthzAnswers204WithEmptyBody) {
  RequestSpec spec{.method = "GET", .target = "/v1.0/healthz", .content_length = false};
  auto r = Send(a_port(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 204);
  EXPECT_TRUE(r->body.empty());
}

TEST_F(InvokeTest, MetadataJsonHasTheAppId) {
  RequestSpec spec{.method = "GET", .target = "/v1.0/metadata", .content_length = false};
  auto r = Send(a_port(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(JsonStringField(r->body, "id"), "a") << r->body;
  auto rb = Send(b_port(), spec);
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(JsonStringField(rb->body, "id"), "b") << rb->body;
}

TEST_F(InvokeTest, MetricsPortServesPrometheusText) {
  RequestSpec spec{.method = "GET", .target = "/metrics", .content_length = false};
  auto r = Send(topology_->a.ports.metrics, spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200);
  EXPECT_NE(r->body.find("# TYPE "), std::string::npos) << r->body.substr(0, 500);
}

TEST_F(InvokeTest, EveryVerbArrivesAtTheAppWithTheSameVerb) {
  for (const char* verb : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
    SCOPED_TRACE(verb);
    auto r = Invoke(a_port(), verb, "b", "verbs");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200) << r->body;
    EXPECT_EQ(r->header("X-Echo-Method"), verb);
    EXPECT_EQ(r->header("X-Echo-Path"), "/verbs");
    if (std::string_view(verb) == "HEAD") {
      EXPECT_TRUE(r->body.empty());
    }
  }
}

TEST_F(InvokeTest, MethodPathQueryAndBodyReachTheApp) {
  auto r = Invoke(a_port(), "POST", "b", "orders/42/items?x=1&y=a%20b&z", "payload",
                  {{"Content-Type", "text/plain; charset=utf-8"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200) << r->body;
  EXPECT_EQ(r->header("X-Echo-Path"), "/orders/42/items");
  EXPECT_EQ(r->header("X-Echo-Query"), "x=1&y=a%20b&z");
  EXPECT_EQ(r->body, "payload");
  EXPECT_EQ(r->header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(InvokeTest, RequestHeadersReachTheAppWithDaprIdentityAndForwardedHeaders) {
  const InspectedRequest seen = InspectThroughA(
      {{"X-Custom-Header", "custom value"}, {"X-Multi", "1"}, {"X-Multi", "2"}, {"Accept", "text/plain"}});
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/inspect");
  EXPECT_EQ(seen.First("X-Custom-Header"), "custom value");
  EXPECT_EQ(seen.Values("X-Multi"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(seen.First("Accept"), "text/plain");
  EXPECT_EQ(seen.Values("Dapr-Caller-App-Id"), std::vector<std::string>{"a"});
  EXPECT_EQ(seen.Values("Dapr-Callee-App-Id"), std::vector<std::string>{"b"});
  EXPECT_TRUE(seen.Has("X-Forwarded-For"));
  EXPECT_TRUE(seen.Has("Forwarded"));
  EXPECT_NE(seen.First("Forwarded").find("for="), std::string::npos) << seen.First("Forwarded");
  EXPECT_FALSE(seen.Has("dapr-app-id"));
  EXPECT_FALSE(seen.Has("destination-app-id"));
  EXPECT_EQ(seen.body_length, 1);
  // A known-length request reaches the app with a known length (spec §4.4).
  EXPECT_FALSE(seen.Has("Transfer-Encoding"));
  EXPECT_EQ(seen.First("Content-Length"), "1");
}

TEST_F(InvokeTest, HopByHopHeadersDoNotReachTheApp) {
  const InspectedRequest seen = InspectThroughA({{"Connection", "keep-alive, X-Hop-Secret"},
                                                 {"X-Hop-Secret", "1"},
                                                 {"Keep-Alive", "timeout=5"},
                                                 {"Proxy-Authorization", "Basic eDp5"},
                                                 {"X-Kept", "yes"}});
  EXPECT_FALSE(seen.Has("X-Hop-Secret"));
  EXPECT_FALSE(seen.Has("Keep-Alive"));
  EXPECT_FALSE(seen.Has("Proxy-Authorization"));
  for (const std::string& v : seen.Values("Connection")) EXPECT_NE(v, "X-Hop-Secret");
  EXPECT_EQ(seen.First("X-Kept"), "yes");
}

TEST_F(InvokeTest, AppResponseHeadersStatusAndBodyReachTheClient) {
  auto r = Invoke(a_port(), "GET", "b", "status/201");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 201);
  EXPECT_EQ(r->header("X-App-Status"), "201");
  EXPECT_EQ(r->header("X-Echo-Method"), "GET");
  EXPECT_EQ(r->header("Content-Type"), "text/plain");
  EXPECT_EQ(r->body, "status 201");
}

TEST_F(InvokeTest, AppErrorStatusesPassThroughWithTheirBodies) {
  for (int code : {404, 500, 503}) {
    SCOPED_TRACE(code);
    auto r = Invoke(a_port(), "GET", "b", absl::StrCat("status/", code));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), code);
    EXPECT_EQ(r->body, absl::StrCat("status ", code));
    EXPECT_EQ(r->header("X-App-Status"), absl::StrCat(code));
  }
}

TEST_F(InvokeTest, EmptyBodyArrivesEmpty) {
  auto r = Invoke(a_port(), "POST", "b", "echo", "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("X-Echo-Body-Length"), "0");
  EXPECT_TRUE(r->body.empty());
}

TEST_F(InvokeTest, OneMebibyteBodyRoundTripsByteExact) {
  const std::string body = RandomBytes(1 << 20, 7);
  auto r = Invoke(a_port(), "PUT", "b", "echo", body, {{"Content-Type", "application/octet-stream"}}, 20s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->header("X-Echo-Body-Length"), absl::StrCat(1 << 20));
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body) << "body differs";
}

TEST_F(InvokeTest, BodyOverMaxBodySizeIsRejectedWith413) {
  const std::string body((2 << 20) + 1, 'z');
  auto r = Invoke(a_port(), "POST", "b", "echo", body, {}, 20s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 413) << r->body.substr(0, 200);
  // The sidecar keeps serving afterwards.
  auto after = Invoke(a_port(), "POST", "b", "echo", "still here");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->body, "still here");
}

TEST_F(InvokeTest, ChunkedRequestBodyArrivesWhole) {
  BlockingHttpConnection c;
  const auto deadline = Clock::now() + 10s;
  ASSERT_TRUE(c.Connect(a_port(), deadline).ok());
  ASSERT_TRUE(c.SendAll("POST /v1.0/invoke/b/method/echo HTTP/1.1\r\nHost: x\r\n"
                        "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                        "6\r\nhello \r\n", deadline).ok());
  std::this_thread::sleep_for(50ms);  // the body arrives in pieces
  ASSERT_TRUE(c.SendAll("8;ext=1\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n", deadline).ok());
  auto r = c.ReadResponse(deadline);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->body, "hello chunked world");
  EXPECT_EQ(r->header("X-Echo-Body-Length"), "19");
}

TEST_F(InvokeTest, ExpectContinueGets100ThenTheAnswer) {
  BlockingHttpConnection c;
  const auto deadline = Clock::now() + 10s;
  ASSERT_TRUE(c.Connect(a_port(), deadline).ok());
  ASSERT_TRUE(c.SendAll("POST /v1.0/invoke/b/method/echo HTTP/1.1\r\nHost: x\r\n"
                        "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", deadline).ok());
  auto interim = c.ReadResponse(Clock::now() + 3s, blocking_http::ResponseTo::kOther, /*skip_interim=*/false);
  ASSERT_TRUE(interim.ok()) << "no 100 Continue within 3 s: " << interim.status();
  EXPECT_EQ(interim->status(), 100);
  ASSERT_TRUE(c.SendAll("12345", deadline).ok());
  auto r = c.ReadResponse(deadline);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->body, "12345");
}

TEST_F(InvokeTest, PipelinedRequestsAreAnsweredInOrder) {
  BlockingHttpConnection c;
  const auto deadline = Clock::now() + 10s;
  ASSERT_TRUE(c.Connect(a_port(), deadline).ok());
  std::string all;
  const std::vector<std::string> bodies = {"first", "second body", "", "fourth"};
  for (const auto& body : bodies) {
    all += blocking_http::BuildRequest({.method = "POST", .target = "/v1.0/invoke/b/method/echo", .body = body});
  }
  ASSERT_TRUE(c.SendAll(all, deadline).ok());
  for (const auto& body : bodies) {
    auto r = c.ReadResponse(deadline);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->body, body);
  }
}

// Issue 11: a unary request's body goes to the peer from the ingress input buffer, by offset.
// Pipelined requests behind a 1 MiB body arrive while it is still going out and grow that
// buffer into a new block; every body must still arrive whole, and every answer (sent by the
// callee from its app connection's buffer) come back in order.
TEST_F(InvokeTest, PipelinedMegabyteBodiesArriveWholeWhileTheBufferGrowsUnderThem) {
  BlockingHttpConnection c;
  const auto deadline = Clock::now() + 30s;
  ASSERT_TRUE(c.Connect(a_port(), deadline).ok());
  std::vector<std::string> bodies;
  std::string all;
  for (int i = 0; i < 3; ++i) {
    std::string body(size_t{1} << 20, '\0');  // the largest body that is not streamed
    for (size_t k = 0; k < body.size(); ++k) body[k] = static_cast<char>('a' + (k * 7 + i * 3) % 26);
    all += blocking_http::BuildRequest({.method = "POST", .target = "/v1.0/invoke/b/method/echo", .body = body});
    bodies.push_back(std::move(body));
  }
  ASSERT_TRUE(c.SendAll(all, deadline).ok());
  for (size_t i = 0; i < bodies.size(); ++i) {
    auto r = c.ReadResponse(deadline);
    ASSERT_TRUE(r.ok()) << "response " << i << ": " << r.status();
    EXPECT_EQ(r->status(), 200);
    EXPECT_TRUE(r->body == bodies[i]) << "response " << i << " differs (" << r->body.size() << " bytes)";
  }
}

TEST_F(InvokeTest, KeepAliveConnectionServesManyRequests) {
  BlockingHttpConnection c;
  const auto deadline = Clock::now() + 20s;
  ASSERT_TRUE(c.Connect(a_port(), deadline).ok());
  for (int i = 0; i < 200; ++i) {
    const std::string body = absl::StrCat("request ", i);
    ASSERT_TRUE(c.SendAll(blocking_http::BuildRequest(
                              {.method = "POST", .target = "/v1.0/invoke/b/method/echo", .body = body}),
                          deadline).ok());
    auto r = c.ReadResponse(deadline);
    ASSERT_TRUE(r.ok()) << "request " << i << ": " << r.status();
    ASSERT_EQ(r->body, body);
  }
}

TEST_F(InvokeTest, UnknownAppIdIs500DirectInvokeError) {
  const auto start = Clock::now();
  auto r = Invoke(a_port(), "GET", "nosuchapp", "echo", "", {}, 15s);
  ExpectDirectInvokeError(r, 500);
  EXPECT_LT(Clock::now() - start, 10s);
}

TEST_F(InvokeTest, RequestWithoutAnyAppIdIs404DirectInvokeError) {
  RequestSpec spec{.method = "GET", .target = "/no/app/id/here", .content_length = false};
  ExpectDirectInvokeError(Send(a_port(), spec), 404);
}

TEST_F(InvokeTest, DaprAppIdHeaderFormRoutesByHeaderAndDropsIt) {
  RequestSpec spec{.method = "POST", .target = "/inspect?via=header", .headers = {{"dapr-app-id", "b"}}, .body = "h"};
  auto r = Send(a_port(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->status(), 200) << r->body;
  auto seen = ParseInspectedRequest(r->body);
  ASSERT_TRUE(seen.has_value()) << r->body;
  EXPECT_EQ(seen->path, "/inspect");
  EXPECT_EQ(seen->query, "via=header");
  EXPECT_FALSE(seen->Has("dapr-app-id"));
  EXPECT_EQ(seen->Values("Dapr-Callee-App-Id"), std::vector<std::string>{"b"});
}

TEST_F(InvokeTest, BasicAuthFormRoutesByPassword) {
  const std::string credentials = absl::Base64Escape("dapr-app-id:b");
  RequestSpec spec{.method = "GET", .target = "/basic/form", .headers = {{"Authorization", "Basic " + credentials}},
                   .content_length = false};
  auto r = Send(a_port(), spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200) << r->body;
  EXPECT_EQ(r->header("X-Echo-Path"), "/basic/form");
  EXPECT_EQ(r->header("X-Echo-Method"), "GET");
}

TEST_F(InvokeTest, TwoHundredConcurrentRequestsAllAnsweredCorrectly) {
  constexpr int kClients = 200;
  std::atomic<int> correct{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([i, &correct, &failures] {
      const std::string body = absl::StrCat("client-", i, "-", std::string(static_cast<size_t>(i) * 13, 'c'));
      auto r = Invoke(a_port(), "POST", "b", absl::StrCat("echo/", i), body, {}, 30s);
      if (r.ok() && r->status() == 200 && r->body == body && r->header("X-Echo-Path") == absl::StrCat("/echo/", i)) {
        ++correct;
      } else {
        failures[static_cast<size_t>(i)] =
            r.ok() ? absl::StrCat("status ", r->status(), " body ", r->body.substr(0, 100)) : r.status().ToString();
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(correct.load(), kClients);
  for (int i = 0; i < kClients; ++i) {
    if (!failures[static_cast<size_t>(i)].empty()) {
      ADD_FAILURE() << "client " << i << ": " << failures[static_cast<size_t>(i)];
      break;
    }
  }
}

TEST_F(InvokeTest, SelfInvocationReachesTheOwnApp) {
  auto r = Invoke(b_port(), "POST", "b", "inspect?self=1", "me");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->status(), 200) << r->body;
  auto seen = ParseInspectedRequest(r->body);
  ASSERT_TRUE(seen.has_value()) << r->body;
  EXPECT_EQ(seen->query, "self=1");
  EXPECT_EQ(seen->Values("Dapr-Caller-App-Id"), std::vector<std::string>{"b"});
  EXPECT_EQ(seen->Values("Dapr-Callee-App-Id"), std::vector<std::string>{"b"});
}

}  // namespace
}  // namespace ringside::e2e
