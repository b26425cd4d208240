// Access control on the callee (spec §10, issue 10), with real sidecars and apps: c (HTTP app)
// and b (gRPC app) run with `spec.accessControl`; a calls them. Without mTLS a caller has no
// identity, so (as in daprd) the global defaultAction decides: `deny` refuses every call before
// the app sees it (HTTP callers get 403 with daprd's ERR_DIRECT_INVOKE text, gRPC proxy callers
// PERMISSION_DENIED), `allow` lets calls through even when a policy for the caller says deny.
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/grpc_helpers.h"

namespace ringside::e2e {
namespace {

constexpr char kDenyAll[] = R"(apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: deny-all}
spec:
  accessControl:
    defaultAction: deny
    trustDomain: public
    policies:
    - appId: a
      namespace: default
      trustDomain: public
      defaultAction: allow
)";

constexpr char kAllowByDefault[] = R"(apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: allow-by-default}
spec:
  accessControl:
    defaultAction: allow
    policies:
    - appId: a
      namespace: default
      trustDomain: public
      defaultAction: deny
      operations:
      - {name: /echo, httpVerb: ['*'], action: deny}
)";

// One callee (HTTP app behind c, gRPC app behind b) per Configuration, and a caller a.
class AccessControlTest : public ::testing::Test {
 protected:
  void StartCallees(const char* configuration) {
    const std::string config = dir_.File("config.yaml");
    std::ofstream(config) << configuration;
    nr_db_ = dir_.File("nr.db");
    auto http_app = StartEchoApp(dir_, &http_app_port_);
    ASSERT_TRUE(http_app.ok()) << http_app.status();
    http_app_ = std::move(*http_app);
    auto grpc_app = StartGrpcEchoApp(dir_, &grpc_app_port_);
    ASSERT_TRUE(grpc_app.ok()) << grpc_app.status();
    grpc_app_ = std::move(*grpc_app);
    auto c = StartSidecar({.app_id = "c", .app_port = http_app_port_, .nr_db = nr_db_,
                           .extra_args = {"--config", config}},
                          dir_);
    ASSERT_TRUE(c.ok()) << c.status();
    c_ = std::move(*c);
    auto b = StartSidecar({.app_id = "b", .nr_db = nr_db_,
                           .extra_args = {"--config", config, "--app-port", absl::StrCat(grpc_app_port_),
                                          "--app-protocol", "grpc"}},
                          dir_);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = std::move(*b);
    auto a = StartSidecar({.app_id = "a", .nr_db = nr_db_}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    ASSERT_TRUE(WaitForAnswer()) << Logs();
  }
  // Bounded wait until a's table holds c (any answer from c's sidecar, allowed or not).
  bool WaitForAnswer() {
    const Clock::time_point deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      auto r = Invoke(a_.ports.http, "POST", "c", "echo", "ping", {}, 3s);
      if (r.ok() && (r->status() == 200 || r->status() == 403)) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  int64_t HttpAppServed() {
    RequestSpec spec;
    spec.target = "/served";
    spec.content_length = false;
    auto r = Send(http_app_port_, spec, 5s);
    int64_t n = -1;
    if (!r.ok() || r->status() != 200 || !absl::SimpleAtoi(r->body, &n)) return -1;
    return n;
  }
  int64_t GrpcAppCalls() {
    auto stub = testpb::Echo::NewStub(LocalChannel(grpc_app_port_));
    grpc::ClientContext context;
    SetTimeout(&context, 5s);
    testpb::StatsResponse stats;
    return stub->Stats(&context, testpb::StatsRequest(), &stats).ok() ? stats.calls() : -1;
  }
  grpc::Status ProxiedUnary() {
    auto stub = testpb::Echo::NewStub(LocalChannel(a_.ports.grpc));
    grpc::ClientContext context;
    PrepareProxyCall(&context, "b");
    testpb::EchoRequest request;
    request.set_text("acl");
    testpb::EchoResponse response;
    return stub->Unary(&context, request, &response);
  }
  std::string Logs() const {
    std::string out;
    for (const Sidecar* s : {&a_, &b_, &c_}) {
      if (s->process) absl::StrAppend(&out, "--- sidecar ", s->app_id, ":\n", s->process->LogTail(), "\n");
    }
    return out;
  }

  TempDir dir_;
  std::string nr_db_;
  uint16_t http_app_port_ = 0;
  uint16_t grpc_app_port_ = 0;
  std::unique_ptr<ChildProcess> http_app_;
  std::unique_ptr<ChildProcess> grpc_app_;
  Sidecar c_, b_, a_;
};

TEST_F(AccessControlTest, DefaultDenyRefusesHttpAndGrpcCallsBeforeTheAppsSeeThem) {
  ASSERT_NO_FATAL_FAILURE(StartCallees(kDenyAll));
  const int64_t served = HttpAppServed();
  const int64_t grpc_calls = GrpcAppCalls();
  ASSERT_GE(served, 0);
  ASSERT_GE(grpc_calls, 0);
  for (int i = 0; i < 5; ++i) {
    auto r = Invoke(a_.ports.http, "POST", "c", "echo", "denied");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 403) << r->body;
    EXPECT_NE(r->body.find("\"errorCode\":\"ERR_DIRECT_INVOKE\""), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("failed to invoke, id: c, err: rpc error: code = PermissionDenied desc = access control "
                           "policy has denied access to id:  operation: echo verb: POST"),
              std::string::npos)
        << r->body;
  }
  const grpc::Status status = ProxiedUnary();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(status);
  EXPECT_EQ(status.error_message(),
            "access control policy has denied access to id:  operation: /ringside.test.v1.Echo/Unary verb: NONE");
  EXPECT_EQ(HttpAppServed(), served) << "a denied call reached the HTTP app";
  EXPECT_EQ(GrpcAppCalls(), grpc_calls) << "a denied call reached the gRPC app";
}

TEST_F(AccessControlTest, WithoutAnIdentityTheGlobalAllowWinsOverACallersPolicy) {
  ASSERT_NO_FATAL_FAILURE(StartCallees(kAllowByDefault));
  const int64_t served = HttpAppServed();
  auto r = Invoke(a_.ports.http, "POST", "c", "echo", "allowed");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200) << r->body;
  EXPECT_EQ(r->body, "allowed");
  EXPECT_EQ(HttpAppServed(), served + 1);
  const grpc::Status status = ProxiedUnary();
  EXPECT_TRUE(status.ok()) << Describe(status);
}

TEST_F(AccessControlTest, ABadSectionStopsTheSidecarWithExitTwoNamingThePath) {
  const std::string config = dir_.File("bad.yaml");
  std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  accessControl:\n"
                           "    policies:\n    - {appId: a, trustDomain: public}\n";
  auto process = ChildProcess::Spawn(BinPath("ringsided"), {"--app-id", "x", "--config", config}, {},
                                     dir_.File("bad.log"));
  ASSERT_TRUE(process.ok()) << process.status();
  const auto code = (*process)->WaitExit(10s);
  ASSERT_TRUE(code.has_value()) << "ringsided kept running with a bad accessControl section";
  EXPECT_EQ(*code, 2);
  EXPECT_NE((*process)->LogTail().find("spec.accessControl.policies[0].namespace: is required"), std::string::npos)
      << (*process)->LogTail();
}

}  // namespace
}  // namespace ringside::e2e
