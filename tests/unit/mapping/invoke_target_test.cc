#include "dataplane/mapping/invoke_target.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace ringside::invoke {
namespace {

using http1::ParseStatus;
using http1::RequestHead;

// Parses req, extracts the target, and keeps the buffers alive for the views.
struct Extracted {
  std::string req;
  std::unique_ptr<RequestHead> head = std::make_unique<RequestHead>();
  std::vector<char> scratch;
  InvokeTarget target;
  TargetError error = TargetError::kNone;
};

std::unique_ptr<Extracted> extract(std::string method_and_target, std::string headers = "") {
  auto e = std::make_unique<Extracted>();
  e->req = method_and_target + " HTTP/1.1\r\nHost: localhost:3500\r\n" + headers + "\r\n";
  EXPECT_EQ(http1::parse_request_head(e->req, 8192, e->head.get()), ParseStatus::kComplete) << e->req;
  e->scratch.resize(invoke_scratch_size(*e->head));
  EXPECT_LE(e->scratch.size(), 2 * e->req.size() + 64);  // the documented upper bound
  e->error = extract_invoke_target(*e->head, e->scratch, &e->target);
  return e;
}

TEST(InvokeTarget, PathForm) {
  auto e = extract("POST /v1.0/invoke/orders/method/api/v1/create?x=1");
  ASSERT_EQ(e->error, TargetError::kNone);
  EXPECT_EQ(e->target.target, "orders");
  EXPECT_EQ(e->target.app_id, "orders");
  EXPECT_EQ(e->target.app_namespace, "");
  EXPECT_FALSE(e->target.has_namespace);
  EXPECT_EQ(e->target.method, "api/v1/create");
  EXPECT_FALSE(e->target.from_header);
  EXPECT_FALSE(e->target.is_external_url);
}

TEST(InvokeTarget, PathFormEscapesAndCleaning) {
  auto slash = extract("GET /v1.0/invoke/app/method/a%2Fb");
  ASSERT_EQ(slash->error, TargetError::kNone);
  EXPECT_EQ(slash->target.method, "a/b");
  auto dots = extract("GET /v1.0/invoke/app/method/x/../y/./z/");
  ASSERT_EQ(dots->error, TargetError::kNone);
  EXPECT_EQ(dots->target.method, "y/z");  // path.Clean drops the trailing '/' in this form
  auto dot = extract("GET /v1.0/invoke/app/method/.");
  ASSERT_EQ(dot->error, TargetError::kNone);
  EXPECT_EQ(dot->target.method, "");
  auto up = extract("GET /v1.0/invoke/app/method/../../etc");
  ASSERT_EQ(up->error, TargetError::kNone);
  EXPECT_EQ(up->target.method, "etc");
  auto empty = extract("GET /v1.0/invoke/app/method/");
  ASSERT_EQ(empty->error, TargetError::kNone);
  EXPECT_EQ(empty->target.method, "");
  auto slashes = extract("GET //v1.0///invoke//app/method/m");  // Dapr's pathHasPrefix skips '//'
  ASSERT_EQ(slashes->error, TargetError::kNone);
  EXPECT_EQ(slashes->target.app_id, "app");
  EXPECT_EQ(slashes->target.method, "m");
  auto query = extract("GET /v1.0/invoke/app/method/m%3Fq");  // decoded '?' is refused
  EXPECT_EQ(query->error, TargetError::kInvalidMethod);
  EXPECT_EQ(query->target.target, "app");
  auto hash = extract("GET /v1.0/invoke/app/method/m%23frag");
  EXPECT_EQ(hash->error, TargetError::kInvalidMethod);
  auto ctl = extract("GET /v1.0/invoke/app/method/m%0Aevil");
  EXPECT_EQ(ctl->error, TargetError::kInvalidMethod);
  auto nul = extract("GET /v1.0/invoke/app/method/m%00");
  EXPECT_EQ(nul->error, TargetError::kInvalidMethod);
  auto del = extract("GET /v1.0/invoke/app/method/m%7F");
  EXPECT_EQ(del->error, TargetError::kInvalidMethod);
}

TEST(InvokeTarget, ExternalUrlAppId) {
  auto once = extract("GET /v1.0/invoke/http%3A%2F%2Fhost.example.com%3A8080/method/path");
  ASSERT_EQ(once->error, TargetError::kNone);
  EXPECT_EQ(once->target.target, "http://host.example.com:8080");
  EXPECT_TRUE(once->target.is_external_url);
  EXPECT_EQ(once->target.app_id, "http://host.example.com:8080");
  EXPECT_EQ(once->target.method, "path");
  // Double-encoded: the path decoding plus Dapr's extra QueryUnescape.
  auto twice = extract("GET /v1.0/invoke/https%253A%252F%252Fapi.example.com/method/v1/x");
  ASSERT_EQ(twice->error, TargetError::kNone);
  EXPECT_EQ(twice->target.target, "https://api.example.com");
  EXPECT_TRUE(twice->target.is_external_url);
  // A failing extra unescape keeps the text as it was.
  auto keep = extract("GET /v1.0/invoke/a%2525zz/method/m");
  ASSERT_EQ(keep->error, TargetError::kNone);
  EXPECT_EQ(keep->target.target, "a%zz");
  // QueryUnescape turns '+' into ' '.
  auto plus = extract("GET /v1.0/invoke/a+b/method/m");
  EXPECT_EQ(plus->target.target, "a b");
}

TEST(InvokeTarget, Namespaces) {
  auto ns = extract("GET /v1.0/invoke/app.prod/method/m");
  ASSERT_EQ(ns->error, TargetError::kNone);
  EXPECT_EQ(ns->target.target, "app.prod");
  EXPECT_EQ(ns->target.app_id, "app");
  EXPECT_EQ(ns->target.app_namespace, "prod");
  EXPECT_TRUE(ns->target.has_namespace);
  auto bad = extract("GET /v1.0/invoke/a.b.c/method/m");
  EXPECT_EQ(bad->error, TargetError::kInvalidAppId);
  EXPECT_EQ(bad->target.target, "a.b.c");  // filled so the caller can check HTTPEndpoint names
  EXPECT_EQ(bad->target.method, "m");
  auto trailing = extract("GET /v1.0/invoke/app./method/m");
  ASSERT_EQ(trailing->error, TargetError::kNone);
  EXPECT_EQ(trailing->target.app_namespace, "");
  EXPECT_TRUE(trailing->target.has_namespace);
}

TEST(InvokeTarget, HeaderForm) {
  auto e = extract("POST /api/orders/../items//42?x=1", "DAPR-App-ID: inventory.ns1\r\n");
  ASSERT_EQ(e->error, TargetError::kNone);
  EXPECT_TRUE(e->target.from_header);
  EXPECT_EQ(e->target.app_id, "inventory");
  EXPECT_EQ(e->target.app_namespace, "ns1");
  EXPECT_EQ(e->target.method, "api/items/42");
  auto trailing = extract("GET /a/b/", "dapr-app-id: x\r\n");
  EXPECT_EQ(trailing->target.method, "a/b/");  // Dapr's cleanPath keeps a trailing '/'
  auto root = extract("GET /", "dapr-app-id: x\r\n");
  ASSERT_EQ(root->error, TargetError::kNone);
  EXPECT_EQ(root->target.method, "");
  auto escaped = extract("GET /a%2Fb%20c", "dapr-app-id: x\r\n");
  EXPECT_EQ(escaped->target.method, "a/b c");
  auto bad = extract("GET /a%3Fb", "dapr-app-id: x\r\n");
  EXPECT_EQ(bad->error, TargetError::kInvalidMethod);
  EXPECT_EQ(bad->target.target, "x");
  // An empty header value does not count.
  auto empty = extract("GET /a", "dapr-app-id:\r\n");
  EXPECT_EQ(empty->error, TargetError::kNoTarget);
}

TEST(InvokeTarget, HeaderWinsOverPath) {
  auto e = extract("GET /v1.0/invoke/pathapp/method/m", "dapr-app-id: headerapp\r\n");
  ASSERT_EQ(e->error, TargetError::kNone);
  EXPECT_EQ(e->target.app_id, "headerapp");
  EXPECT_EQ(e->target.method, "v1.0/invoke/pathapp/method/m");
  EXPECT_TRUE(e->target.from_header);
}

TEST(InvokeTarget, BasicAuthForm) {
  // base64("dapr-app-id:myapp")
  auto e = extract("GET /hello/world", "Authorization: Basic ZGFwci1hcHAtaWQ6bXlhcHA=\r\n");
  ASSERT_EQ(e->error, TargetError::kNone);
  EXPECT_EQ(e->target.app_id, "myapp");
  EXPECT_EQ(e->target.method, "hello/world");
  EXPECT_FALSE(e->target.from_header);
  // User name compared case-insensitively: base64("DAPR-APP-ID:other.ns")
  auto upper = extract("GET /m", "Authorization: Basic REFQUi1BUFAtSUQ6b3RoZXIubnM=\r\n");
  ASSERT_EQ(upper->error, TargetError::kNone);
  EXPECT_EQ(upper->target.app_id, "other");
  EXPECT_EQ(upper->target.app_namespace, "ns");
  // Header form wins over Basic auth.
  auto both = extract("GET /m", "Authorization: Basic ZGFwci1hcHAtaWQ6bXlhcHA=\r\ndapr-app-id: hdr\r\n");
  EXPECT_EQ(both->target.app_id, "hdr");
  // Basic auth wins over the path form.
  auto over_path = extract("GET /v1.0/invoke/p/method/m", "Authorization: Basic ZGFwci1hcHAtaWQ6bXlhcHA=\r\n");
  EXPECT_EQ(over_path->target.app_id, "myapp");
  EXPECT_EQ(over_path->target.method, "v1.0/invoke/p/method/m");
}

TEST(InvokeTarget, BasicAuthThatDoesNotMatchFallsThrough) {
  // base64("user:pass"): another user → falls through to the path form.
  auto other = extract("GET /v1.0/invoke/p/method/m", "Authorization: Basic dXNlcjpwYXNz\r\n");
  ASSERT_EQ(other->error, TargetError::kNone);
  EXPECT_EQ(other->target.app_id, "p");
  // base64("dapr-app-id:a:b"): two colons → not a match (Dapr splits on every ':').
  auto colons = extract("GET /x", "Authorization: Basic ZGFwci1hcHAtaWQ6YTpi\r\n");
  EXPECT_EQ(colons->error, TargetError::kNoTarget);
  // Not base64, wrong scheme, or bearer tokens: ignored.
  EXPECT_EQ(extract("GET /x", "Authorization: Basic !!!!\r\n")->error, TargetError::kNoTarget);
  EXPECT_EQ(extract("GET /x", "Authorization: basic ZGFwci1hcHAtaWQ6bXlhcHA=\r\n")->error, TargetError::kNoTarget);
  EXPECT_EQ(extract("GET /x", "Authorization: Bearer abc\r\n")->error, TargetError::kNoTarget);
}

TEST(InvokeTarget, NoTarget) {
  for (const char* t : {"GET /", "GET /v1.0/invoke", "GET /v1.0/invoke/", "GET /v1.0/invoke/app",
                        "GET /v1.0/invoke/app/methods/x", "GET /v1.0/invokeX/app/method/x",
                        "GET /v1.0/invoke//method/x", "GET /v1.0/state/s", "GET *"}) {
    auto e = extract(t);
    EXPECT_EQ(e->error, TargetError::kNoTarget) << t;
  }
}

TEST(InvokeTarget, ScratchTooSmall) {
  auto e = extract("GET /v1.0/invoke/app/method/m");
  std::vector<char> small(8);
  InvokeTarget t;
  EXPECT_EQ(extract_invoke_target(*e->head, small, &t), TargetError::kScratchTooSmall);
}

TEST(InvokeTarget, PrefixHelpers) {
  EXPECT_TRUE(is_invoke_path("/v1.0/invoke/a/method/b"));
  EXPECT_TRUE(is_invoke_path("v1.0/invoke/a"));
  EXPECT_FALSE(is_invoke_path("/v1.0/invoke"));
  EXPECT_FALSE(is_invoke_path("/v1.0/healthz"));
  EXPECT_FALSE(is_invoke_path(""));
  EXPECT_EQ(invoke_prefix_end("/v1.0/invoke//app"), 14u);  // index of "app"
  std::string_view app, ns;
  EXPECT_TRUE(split_app_id("a", &app, &ns));
  EXPECT_EQ(app, "a");
  EXPECT_TRUE(split_app_id("a.b", &app, &ns));
  EXPECT_EQ(ns, "b");
  EXPECT_FALSE(split_app_id("a.b.c", &app, &ns));
}

}  // namespace
}  // namespace ringside::invoke
