// Resiliency policies (issue 10, docs/resiliency.md) with real processes: the caller sidecar a
// loads a Resiliency resource from --resources-path; each policy targets its own app id, served
// by its own sidecar in front of one scripted HTTP app of this test, which counts what it
// receives per path and fails or hangs as told:
//
//   client ──HTTP──► a (--resources-path) ──► rconst / rexp / rtimeout / rcb / rscoped ──► app
//
// Every assertion is on what the client or the app sees (statuses, texts, the app's counts);
// delays are printed, never asserted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/threaded_http_app.h"

namespace ringside::e2e {
namespace {

// An HTTP/1.1 app: /echo → 200 with the body; /ok → 200; /fail/<code> → <code>; /hang → never answers (until the
// connection closes, which it counts as released); /flaky → the status set by the test.
// Counts every request by path.
class ScriptedApp final : public ThreadedHttpApp {
 public:
  ScriptedApp() = default;
  ~ScriptedApp() override { Stop(); }
  int Count(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[path];
  }
  int hangs_released() const { return hangs_released_.load(); }
  void set_flaky_status(int status) { flaky_status_ = status; }

 private:
  bool Handle(HttpMessage& request, BlockingHttpConnection& conn) override {
    const std::string path(request.token2.substr(0, request.token2.find('?')));
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counts_[path];
    }
    int status = 200;
    if (path == "/hang") {
      // Bounded: the sidecar is expected to give the connection up long before.
      if (conn.WaitForPeerClose(Clock::now() + 20s)) ++hangs_released_;
      return false;
    }
    if (absl::StartsWith(path, "/fail/")) {
      if (!absl::SimpleAtoi(path.substr(6), &status)) status = 500;
    } else if (path == "/flaky") {
      status = flaky_status_.load();
    }
    const std::string body = path == "/echo" ? request.body : absl::StrCat("app answered ", status);
    return conn.SendAll(absl::StrCat("HTTP/1.1 ", status, " X\r\nContent-Type: text/plain\r\nContent-Length: ",
                                     body.size(), "\r\n\r\n", body),
                        Clock::now() + 5s)
        .ok();
  }

  std::mutex mu_;                            // guards counts_
  std::map<std::string, int> counts_;        // requests seen per path
  std::atomic<int> hangs_released_{0};       // /hang connections closed by the sidecar
  std::atomic<int> flaky_status_{200};       // what /flaky answers
};

constexpr char kResources[] = R"(apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ignored}
spec: {type: state.in-memory, version: v1}
---
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: policies}
spec:
  policies:
    timeouts:
      short: 500ms
    retries:
      threeConstant:
        policy: constant
        duration: 50ms
        maxRetries: 3
        matching:
          httpStatusCodes: "500-503"
      twoExponential:
        policy: exponential
        maxInterval: 2s
        maxRetries: 2
    circuitBreakers:
      tripAt3:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures > 2
  targets:
    apps:
      rconst: {retry: threeConstant}
      rexp: {retry: twoExponential}
      rtimeout: {timeout: short}
      rcb: {circuitBreaker: tripAt3}
      rmulti: {retry: threeConstant}
      rgrpc: {timeout: short}
      rgrpccb: {circuitBreaker: tripAt3}
      rself: {retry: threeConstant, timeout: short}
---
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: someone-else}
scopes: [not-a]
spec:
  policies:
    retries:
      many: {policy: constant, duration: 10ms, maxRetries: 5}
  targets:
    apps:
      rscoped: {retry: many}
)";

class ResiliencyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    app_ = new ScriptedApp;
    app2_ = new ScriptedApp;
    start_status_ = new absl::Status(StartAll());
  }
  static void TearDownTestSuite() {
    delete sidecars_;
    delete a_;
    delete app_;
    delete app2_;
    delete grpc_app_;
    delete start_status_;
    delete dir_;
  }
  static absl::Status StartAll() {
    if (app_->port() == 0) return absl::InternalError("the scripted app could not listen");
    const std::string res_dir = dir_->File("resources");
    ::mkdir(res_dir.c_str(), 0755);
    std::ofstream(res_dir + "/resiliency.yaml") << kResources;
    const std::string nr_db = dir_->File("nr.db");
    sidecars_ = new std::vector<Sidecar>;
    for (const char* id : {"rconst", "rexp", "rtimeout", "rcb", "rscoped"}) {
      auto s = StartSidecar({.app_id = id, .app_port = app_->port(), .nr_db = nr_db}, *dir_);
      if (!s.ok()) return s.status();
      sidecars_->push_back(std::move(*s));
    }
    // Two instances of rmulti, each in front of its own app (retries go to the other one).
    for (ScriptedApp* app : {app_, app2_}) {
      auto s = StartSidecar({.app_id = "rmulti", .app_port = app->port(), .nr_db = nr_db}, *dir_);
      if (!s.ok()) return s.status();
      sidecars_->push_back(std::move(*s));
    }
    // A gRPC app behind rgrpc, for proxied calls (dapr-app-id on a's gRPC port).
    uint16_t grpc_port = 0;
    auto grpc_app = StartGrpcEchoApp(*dir_, &grpc_port);
    if (!grpc_app.ok()) return grpc_app.status();
    grpc_app_ = grpc_app->release();
    auto g = StartSidecar({.app_id = "rgrpc", .app_port = grpc_port, .nr_db = nr_db, .extra_args = {"--app-protocol", "grpc"}}, *dir_);
    if (!g.ok()) return g.status();
    sidecars_->push_back(std::move(*g));
    auto gcb = StartSidecar({.app_id = "rgrpccb", .app_port = grpc_port, .nr_db = nr_db, .extra_args = {"--app-protocol", "grpc"}}, *dir_);
    if (!gcb.ok()) return gcb.status();
    sidecars_->push_back(std::move(*gcb));
    // rself loads the policies too and calls its own app id (self-invocation).
    auto self = StartSidecar({.app_id = "rself", .app_port = app_->port(), .nr_db = nr_db,
                              .extra_args = {"--resources-path", res_dir}}, *dir_);
    if (!self.ok()) return self.status();
    sidecars_->push_back(std::move(*self));
    auto a = StartSidecar({.app_id = "a", .nr_db = nr_db, .extra_args = {"--resources-path", res_dir}}, *dir_);
    if (!a.ok()) return a.status();
    a_ = new Sidecar(std::move(*a));
    for (const char* id : {"rconst", "rexp", "rtimeout", "rcb", "rscoped", "rmulti"}) {
      if (!WaitUntilInvocable(a_->ports.http, id, 15s)) {
        auto r = Invoke(a_->ports.http, "POST", id, "echo", "x");
        return absl::DeadlineExceededError(absl::StrCat(id, " not invocable: ", r.ok() ? r->token2 + " " + r->body : r.status().ToString()));
      }
    }
    return absl::OkStatus();
  }
  void SetUp() override { ASSERT_TRUE(start_status_->ok()) << *start_status_ << "\n" << a_log(); }
  static std::string a_log() { return a_ && a_->process ? a_->process->LogTail() : ""; }

  // One invocation through a, with the measured time.
  static absl::StatusOr<HttpMessage> Call(std::string_view app_id, std::string_view path, int64_t* ms = nullptr,
                                          std::string body = "x") {
    const auto t0 = Clock::now();
    auto r = Invoke(a_->ports.http, "POST", app_id, path, std::move(body), {}, 20s);
    if (ms) *ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    return r;
  }

  static TempDir* dir_;
  static ScriptedApp* app_;
  static ScriptedApp* app2_;  // behind the second rmulti instance
  static ChildProcess* grpc_app_;  // ringside-grpc-echo-app behind rgrpc
  static std::vector<Sidecar>* sidecars_;
  static Sidecar* a_;
  static absl::Status* start_status_;
};
TempDir* ResiliencyTest::dir_ = nullptr;
ScriptedApp* ResiliencyTest::app_ = nullptr;
ScriptedApp* ResiliencyTest::app2_ = nullptr;
ChildProcess* ResiliencyTest::grpc_app_ = nullptr;
std::vector<Sidecar>* ResiliencyTest::sidecars_ = nullptr;
Sidecar* ResiliencyTest::a_ = nullptr;
absl::Status* ResiliencyTest::start_status_ = nullptr;

TEST_F(ResiliencyTest, ConstantRetryMakesExactlyMaxRetriesPlusOneAttemptsAndTheClientSeesTheLastStatus) {
  const int before = app_->Count("/fail/503");
  int64_t ms = 0;
  auto r = Call("rconst", "fail/503", &ms);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 503) << r->body;
  EXPECT_EQ(r->body, "app answered 503");
  EXPECT_EQ(app_->Count("/fail/503") - before, 4) << "maxRetries 3: the app sees 4 attempts";
  std::printf("constant retry (3 x 50ms): answered in %lld ms\n", static_cast<long long>(ms));
}

// daprd's policy runner wraps the invocation whether the target is remote or our own app: a
// self-invocation gets the retries and the timeout of its target entry.
TEST_F(ResiliencyTest, PoliciesApplyToSelfInvocation) {
  const Sidecar* self = nullptr;
  for (const Sidecar& s : *sidecars_) {
    if (s.app_id == "rself") self = &s;
  }
  ASSERT_NE(self, nullptr);
  const int before = app_->Count("/fail/502");
  auto r = Invoke(self->ports.http, "POST", "rself", "fail/502", "x", {}, 20s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 502) << r->body;
  EXPECT_EQ(app_->Count("/fail/502") - before, 4) << "maxRetries 3 on a self-invocation: 4 attempts";

  const int hangs = app_->Count("/hang");
  const int released = app_->hangs_released();
  const auto t0 = Clock::now();
  auto hung = Invoke(self->ports.http, "POST", "rself", "hang", "x", {}, 20s);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  ASSERT_TRUE(hung.ok()) << hung.status();
  EXPECT_EQ(hung->status(), 500) << hung->body;
  EXPECT_NE(hung->body.find("context deadline exceeded"), std::string::npos) << hung->body;
  // Each abandoned attempt gives its app connection back. Counted once the app has read them:
  // an attempt that timed out while a starved app thread had not read its request yet still
  // sits in the app's socket and is counted a moment later (bounded wait).
  const auto deadline = Clock::now() + 10s;
  while ((app_->hangs_released() - released < 4 || app_->Count("/hang") - hangs < 4) && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(app_->Count("/hang") - hangs, 4) << "each timed-out attempt is retried (no gRPC code list)";
  EXPECT_EQ(app_->hangs_released() - released, 4);
  std::printf("self-invocation: 4 attempts of 500 ms timeout answered in %lld ms\n", static_cast<long long>(ms));
}

TEST_F(ResiliencyTest, EachRetryGoesToAnotherInstance) {
  // Both instances must be known to a (its table lists them once each has been called).
  const auto deadline = Clock::now() + 10s;
  while ((app_->Count("/echo") == 0 || app2_->Count("/echo") == 0) && Clock::now() < deadline) {
    (void)Call("rmulti", "echo");
  }
  ASSERT_GT(app2_->Count("/echo"), 0) << "the second rmulti instance was never reached";
  ASSERT_GT(app_->Count("/echo"), 0);
  int seen1 = 0;
  int seen2 = 0;
  for (int i = 0; i < 4; ++i) {
    const int before1 = app_->Count("/fail/501");
    const int before2 = app2_->Count("/fail/501");
    auto r = Call("rmulti", "fail/501");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 501);
    const int d1 = app_->Count("/fail/501") - before1;
    const int d2 = app2_->Count("/fail/501") - before2;
    EXPECT_EQ(d1 + d2, 4) << "3 retries + 1";
    // The first retry avoids the instance that failed while another exists: both are tried.
    EXPECT_GE(d1, 1);
    EXPECT_GE(d2, 1);
    seen1 += d1;
    seen2 += d2;
  }
  std::printf("retries across two instances: %d and %d attempts\n", seen1, seen2);
}

TEST_F(ResiliencyTest, AStatusOutsideTheMatchingListIsNotRetried) {
  const int before = app_->Count("/fail/404");
  auto r = Call("rconst", "fail/404");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 404);
  EXPECT_EQ(app_->Count("/fail/404") - before, 1);
  // 504 is outside 500-503 too.
  const int before504 = app_->Count("/fail/504");
  auto r2 = Call("rconst", "fail/504");
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->status(), 504);
  EXPECT_EQ(app_->Count("/fail/504") - before504, 1);
}

TEST_F(ResiliencyTest, AChunkedRequestIsNeverRetried) {
  const int before = app_->Count("/fail/500");
  RequestSpec spec;
  spec.method = "POST";
  spec.target = "/v1.0/invoke/rconst/method/fail/500";
  spec.headers = {{"Transfer-Encoding", "chunked"}};
  spec.body = "5\r\nhello\r\n0\r\n\r\n";
  spec.content_length = false;
  auto r = Send(a_->ports.http, spec, 20s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;
  EXPECT_EQ(app_->Count("/fail/500") - before, 1) << "a streamed body cannot be replayed";
}

TEST_F(ResiliencyTest, ExponentialRetriesAreCountedAndEverySuccessStopsThem) {
  const int before = app_->Count("/fail/500");
  int64_t ms = 0;
  auto r = Call("rexp", "fail/500", &ms);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;
  EXPECT_EQ(app_->Count("/fail/500") - before, 3) << "maxRetries 2, no matching: every failing code retried";
  std::printf("exponential retry (500 ms, 750 ms, each +-50%%): answered in %lld ms\n", static_cast<long long>(ms));
  const int ok_before = app_->Count("/ok");
  auto ok = Call("rexp", "ok");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status(), 200);
  EXPECT_EQ(app_->Count("/ok") - ok_before, 1);
}

TEST_F(ResiliencyTest, TimeoutAnswersContextDeadlineExceededWhileOtherCallsFlowAndReleasesTheApp) {
  const int released_before = app_->hangs_released();
  int64_t hang_ms = 0;
  auto hung = std::async(std::launch::async, [&hang_ms] { return Call("rtimeout", "hang", &hang_ms); });
  // Meanwhile other calls to the same app are answered.
  int ok = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = Call("rtimeout", "ok");
    ok += r.ok() && r->status() == 200;
  }
  EXPECT_EQ(ok, 5);
  auto r = hung.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;
  EXPECT_NE(r->body.find("ERR_DIRECT_INVOKE"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("context deadline exceeded"), std::string::npos) << r->body;
  std::printf("timeout 500ms: the hung call was answered in %lld ms\n", static_cast<long long>(hang_ms));
  // The callee gave the app connection up (bounded wait).
  const auto deadline = Clock::now() + 10s;
  while (app_->hangs_released() == released_before && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_GT(app_->hangs_released(), released_before) << "the hung app connection was never released";
}

TEST_F(ResiliencyTest, TimeoutAppliesToStreamedInvocations) {
  // A chunked body goes as CallLocalStream: the same timeout and answer.
  const int released_before = app_->hangs_released();
  RequestSpec spec;
  spec.method = "POST";
  spec.target = "/v1.0/invoke/rtimeout/method/hang";
  spec.headers = {{"Transfer-Encoding", "chunked"}};
  spec.body = "5\r\nhello\r\n0\r\n\r\n";
  spec.content_length = false;
  const auto t0 = Clock::now();
  auto r = Send(a_->ports.http, spec, 20s);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;
  EXPECT_NE(r->body.find("context deadline exceeded"), std::string::npos) << r->body;
  std::printf("timeout 500ms, streamed body: answered in %lld ms\n", static_cast<long long>(ms));
  const auto deadline = Clock::now() + 10s;
  while (app_->hangs_released() == released_before && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_GT(app_->hangs_released(), released_before) << "the hung app connection was never released";
}

TEST_F(ResiliencyTest, TimeoutOnTheGrpcApiIsDeadlineExceeded) {
  auto dapr = dapr::proto::runtime::v1::Dapr::NewStub(LocalChannel(a_->ports.grpc));
  dapr::proto::runtime::v1::InvokeServiceRequest request;
  request.set_id("rtimeout");
  request.mutable_message()->set_method("hang");
  request.mutable_message()->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::POST);
  dapr::proto::common::v1::InvokeResponse response;
  grpc::ClientContext context;
  SetTimeout(&context, 10s);
  const auto t0 = Clock::now();
  const grpc::Status status = dapr->InvokeService(&context, request, &response);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_EQ(status.error_message(), "context deadline exceeded");
  std::printf("gRPC InvokeService, timeout 500ms: answered in %lld ms\n", static_cast<long long>(ms));
  // Still serving: the same target answers the next call.
  grpc::ClientContext ok_context;
  SetTimeout(&ok_context, 10s);
  request.mutable_message()->set_method("ok");
  EXPECT_TRUE(dapr->InvokeService(&ok_context, request, &response).ok());
}

TEST_F(ResiliencyTest, TimeoutAppliesToProxiedGrpcCalls) {
  auto stub = testpb::Echo::NewStub(LocalChannel(a_->ports.grpc));
  testpb::EchoRequest request;
  request.set_text("slow");
  request.set_delay_ms(5000);
  testpb::EchoResponse response;
  grpc::Status status;
  int64_t ms = 0;
  // The first proxied call may wait for a's lookup of rgrpc; bounded retries of the test itself.
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext context;
    PrepareProxyCall(&context, "rgrpc", 10s);
    const auto t0 = Clock::now();
    status = stub->Unary(&context, request, &response);
    ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(ms, 5000) << "the app's 5 s delay was waited for: the policy timeout did not apply";
  std::printf("proxied gRPC call, timeout 500ms: answered in %lld ms (%s)\n", static_cast<long long>(ms),
              status.error_message().c_str());
  grpc::ClientContext ok_context;
  PrepareProxyCall(&ok_context, "rgrpc", 10s);
  request.set_delay_ms(0);
  EXPECT_TRUE(stub->Unary(&ok_context, request, &response).ok());
}

TEST_F(ResiliencyTest, CircuitBreakerOnProxiedGrpcCalls) {
  auto stub = testpb::Echo::NewStub(LocalChannel(a_->ports.grpc));
  testpb::EchoRequest request;
  request.set_text("x");
  testpb::EchoResponse response;
  auto call = [&](int code) {
    grpc::ClientContext context;
    PrepareProxyCall(&context, "rgrpccb", 10s);
    request.mutable_status()->set_code(code);
    request.mutable_status()->set_message(code ? "app failure" : "");
    return stub->Unary(&context, request, &response);
  };
  // a learns about rgrpccb first (bounded).
  bool ok = false;
  for (int i = 0; i < 50 && !ok; ++i) {
    ok = call(0).ok();
    if (!ok) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ok) << "rgrpccb never answered through a";
  for (int i = 0; i < 3; ++i) {
    grpc::Status s = call(9);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_EQ(s.error_message(), "app failure");
  }
  // Tripped (consecutiveFailures > 2): refused by a without reaching the app.
  grpc::Status refused = call(0);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNKNOWN) << refused.error_message();
  EXPECT_EQ(refused.error_message(), "circuit breaker is open");
  // After its 1 s timeout one probe goes through; it succeeds and closes the breaker.
  std::this_thread::sleep_for(1200ms);
  EXPECT_TRUE(call(0).ok());
  EXPECT_TRUE(call(0).ok());
}

TEST_F(ResiliencyTest, CircuitBreakerOpensHalfOpensAndCloses) {
  app_->set_flaky_status(500);
  const int before = app_->Count("/flaky");
  for (int i = 0; i < 3; ++i) {
    auto r = Call("rcb", "flaky");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 500) << r->body;
    EXPECT_EQ(r->body, "app answered 500");
  }
  EXPECT_EQ(app_->Count("/flaky") - before, 3);
  // Tripped (consecutiveFailures > 2): refused at once, the app count does not move.
  for (int i = 0; i < 3; ++i) {
    auto r = Call("rcb", "flaky");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 500);
    EXPECT_NE(r->body.find("circuit breaker is open"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("ERR_DIRECT_INVOKE"), std::string::npos) << r->body;
  }
  EXPECT_EQ(app_->Count("/flaky") - before, 3);
  // Another method of the same app has its own breaker.
  auto other = Call("rcb", "ok");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->status(), 200);

  // After the open timeout (1s) one probe goes through; it fails, so the breaker opens again.
  std::this_thread::sleep_for(1200ms);
  auto probe = Call("rcb", "flaky");
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->body, "app answered 500");
  EXPECT_EQ(app_->Count("/flaky") - before, 4) << "exactly one half-open probe (maxRequests 1)";
  auto refused = Call("rcb", "flaky");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_NE(refused->body.find("circuit breaker is open"), std::string::npos) << refused->body;
  EXPECT_EQ(app_->Count("/flaky") - before, 4);

  // The app recovers: the next probe succeeds and closes the breaker.
  app_->set_flaky_status(200);
  std::this_thread::sleep_for(1200ms);
  for (int i = 0; i < 4; ++i) {
    auto r = Call("rcb", "flaky");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200) << r->body;
  }
  EXPECT_EQ(app_->Count("/flaky") - before, 8);
}

TEST_F(ResiliencyTest, AResourceScopedToAnotherAppHasNoEffect) {
  const int before = app_->Count("/fail/502");
  auto r = Call("rscoped", "fail/502");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 502);
  EXPECT_EQ(app_->Count("/fail/502") - before, 1) << "the retry policy is scoped to not-a";
}

// A malformed resource stops the sidecar with exit code 2 and a message naming the file and key.
TEST(ResiliencyLoadTest, AMalformedResourceExitsWithCode2NamingFileAndKey) {
  TempDir dir;
  const std::string res_dir = dir.File("res");
  ::mkdir(res_dir.c_str(), 0755);
  std::ofstream(res_dir + "/bad.yml") << R"(apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: bad}
spec:
  policies:
    timeouts: {general: 5s}
  targets:
    apps:
      b: {timeout: general, retry: nosuchpolicy}
)";
  auto p = ChildProcess::Spawn(BinPath("ringsided"),
                               {"--app-id", "x", "--dapr-http-port", std::to_string(PickFreePort()), "--dapr-grpc-port",
                                std::to_string(PickFreePort()), "--metrics-port", std::to_string(PickFreePort()),
                                "--resources-path", res_dir},
                               {absl::StrCat("RINGSIDE_NR_SQLITE=", dir.File("nr.db"))}, dir.File("x.log"));
  ASSERT_TRUE(p.ok()) << p.status();
  auto code = (*p)->WaitExit(10s);
  ASSERT_TRUE(code.has_value()) << "still running: " << (*p)->LogTail();
  EXPECT_EQ(*code, 2) << (*p)->LogTail();
  const std::string log = (*p)->Log();
  EXPECT_NE(log.find(res_dir + "/bad.yml"), std::string::npos) << log;
  EXPECT_NE(log.find("spec.targets.apps.b.retry"), std::string::npos) << log;
  EXPECT_NE(log.find("nosuchpolicy"), std::string::npos) << log;
}

}  // namespace
}  // namespace ringside::e2e
