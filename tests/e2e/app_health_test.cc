// App health checks end to end (issue 10, docs/app-health.md), with real processes:
// - an HTTP app whose /healthz the test flips between 200 and 500 and which counts the calls it
//   receives: healthy → calls pass; failing probes → the callee sidecar answers at once with
//   daprd's Internal "app is not in a healthy state" (self-calls: 500 ERR_DIRECT_INVOKE), the app
//   sees nothing but probes, and its SQLite registration is withdrawn; healthy again → calls pass;
// - two instances of b in one SQLite (or etcd) registry: an unhealthy one is left out and every call of
//   the caller goes to the healthy one (counted at both apps);
// - a gRPC app answering AppCallbackHealthCheck/HealthCheck (flipped by the test), and one that
//   does not implement it (UNIMPLEMENTED = never healthy, as daprd);
// - bad flag combinations exit 2 naming the flag.
// Probes run every 500 ms here; every wait is bounded and no assertion is about timing.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dapr/proto/internals/v1/service_invocation.grpc.pb.h"
#include "dapr/proto/runtime/v1/appcallback.grpc.pb.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/threaded_http_app.h"
#include "tests/unit/controlplane/etcd/etcd_server.h"

namespace ringside::e2e {
namespace {

namespace internals = dapr::proto::internals::v1;
namespace runtime = dapr::proto::runtime::v1;

constexpr const char* kUnhealthyText = "app is not in a healthy state";

// Health flags every test sidecar uses: probes every 500 ms, 2 failures make it unhealthy.
// The probe timeout is the whole interval: with the former 150 ms, two probes in a row of an app
// in this (sanitized, possibly starved) test process taking over 150 ms, as can happen on a
// loaded 2-vCPU CI machine running two sanitized e2e tests at once, would flap a healthy app to
// unhealthy and back (one transition too many in the logged counts, calls refused mid-test).
// Every wait on a transition below is bounded at 10 s or more, far above the ~1 s it takes.
std::vector<std::string> HealthFlags() {
  return {"--enable-app-health-check",    "--app-health-probe-interval", "500ms",
          "--app-health-probe-timeout",   "500ms",
          "--app-health-threshold",       "2"};
}

// Polls a metric until it equals `want` (bounded).
bool WaitForMetric(uint16_t metrics_port, std::string_view name, double want, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto v = ReadMetric(metrics_port, name);
    if (v && *v == want) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Polls `cond` until true (bounded).
template <typename Cond>
bool WaitUntil(Cond cond, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return cond();
}

// An HTTP app: GET /healthz answers 200 or 500 (set_healthy), every other request is counted
// and echoed with 200 and an X-App header naming the app.
class HealthApp final : public ThreadedHttpApp {
 public:
  explicit HealthApp(std::string name) : ThreadedHttpApp(64), name_(std::move(name)) {}
  ~HealthApp() override { Stop(); }
  void set_healthy(bool h) { healthy_.store(h); }
  int invocations() const { return invocations_.load(); }
  int probes() const { return probes_.load(); }

 private:
  bool Handle(HttpMessage& request, BlockingHttpConnection& conn) override {
    const auto deadline = Clock::now() + 60s;
    if (request.token2 == "/healthz") {
      probes_.fetch_add(1);
      const bool h = healthy_.load();
      return conn.SendAll(h ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                            : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nsick",
                          deadline)
          .ok();
    }
    invocations_.fetch_add(1);
    return conn.SendAll(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-App: ", name_,
                                     "\r\nContent-Length: ", request.body.size(), "\r\n\r\n", request.body),
                        deadline)
        .ok();
  }

  std::string name_;                     // X-App answer header
  std::atomic<bool> healthy_{true};      // /healthz answer
  std::atomic<int> invocations_{0};      // non-probe requests received
  std::atomic<int> probes_{0};           // /healthz requests received
};

internals::InternalInvokeRequest EchoRequest(const std::string& body) {
  internals::InternalInvokeRequest req;
  req.set_ver(internals::V1);
  (*req.mutable_metadata())["content-type"].add_values("text/plain");
  auto* message = req.mutable_message();
  message->set_method("echo");
  message->mutable_data()->set_value(body);
  message->set_content_type("text/plain");
  message->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::POST);
  return req;
}

// CallLocal straight to a sidecar's internal port, as a peer sidecar sends it.
grpc::Status CallLocal(uint16_t internal_port, const std::string& body, internals::InternalInvokeResponse* resp) {
  auto stub = internals::ServiceInvocation::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", internal_port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  return stub->CallLocal(&ctx, EchoRequest(body), resp);
}

// CallLocalStream straight to a sidecar's internal port: a leading chunk and one payload; the
// final status (and how many response messages came before it).
grpc::Status CallLocalStream(uint16_t internal_port, const std::string& body, int* messages) {
  auto stub = internals::ServiceInvocation::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", internal_port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  auto stream = stub->CallLocalStream(&ctx);
  internals::InternalInvokeRequestStream leading;
  auto* req = leading.mutable_request();
  req->set_ver(internals::V1);
  (*req->mutable_metadata())["content-type"].add_values("text/plain");
  req->mutable_message()->set_method("echo");
  req->mutable_message()->set_content_type("text/plain");
  req->mutable_message()->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::POST);
  internals::InternalInvokeRequestStream payload;
  payload.mutable_payload()->set_data(body);
  payload.mutable_payload()->set_seq(0);
  if (stream->Write(leading)) (void)stream->Write(payload);  // an early answer ends the writes
  stream->WritesDone();
  internals::InternalInvokeResponseStream m;
  *messages = 0;
  while (*messages < 1000 && stream->Read(&m)) ++*messages;
  return stream->Finish();
}

// One HTTP app behind sidecar b (health checks on), and sidecar a without an app, sharing a
// SQLite registry.
class HttpAppHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = std::make_unique<HealthApp>("b");
    ASSERT_NE(app_->port(), 0);
    auto b = StartSidecar({.app_id = "b", .app_port = app_->port(), .nr_db = dir_.File("nr.db"), .extra_args = HealthFlags()}, dir_);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = std::make_unique<Sidecar>(std::move(*b));
    auto a = StartSidecar({.app_id = "a", .nr_db = dir_.File("nr.db")}, dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::make_unique<Sidecar>(std::move(*a));
  }
  void TearDown() override {
    if (HasFailure()) {
      if (b_) std::cerr << "--- b:\n" << b_->process->LogTail();
      if (a_) std::cerr << "--- a:\n" << a_->process->LogTail();
    }
  }

  TempDir dir_;
  std::unique_ptr<HealthApp> app_;
  std::unique_ptr<Sidecar> b_;
  std::unique_ptr<Sidecar> a_;
};

TEST_F(HttpAppHealthTest, UnhealthyAppIsRefusedAtOnceWithdrawnAndComesBack) {
  const std::string db = dir_.File("nr.db");
  // Healthy: the first probe succeeds, b registers, a's calls reach the app.
  ASSERT_TRUE(WaitForMetric(b_->ports.metrics, "ringside_app_healthy", 1, 10s));
  ASSERT_TRUE(WaitUntilInvocable(a_->ports.http, "b", 10s));
  EXPECT_EQ(CountRegistryRows(db, "b"), 1);
  EXPECT_GT(app_->probes(), 0);

  // The health path fails: after `threshold` probes b is unhealthy.
  app_->set_healthy(false);
  ASSERT_TRUE(WaitForMetric(b_->ports.metrics, "ringside_app_healthy", 0, 10s));
  const int seen_before = app_->invocations();

  // A peer's CallLocal is refused with daprd's status and text, without reaching the app.
  internals::InternalInvokeResponse resp;
  grpc::Status st = CallLocal(b_->ports.internal, "hello", &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), kUnhealthyText);
  // The streamed form too.
  int messages = -1;
  st = CallLocalStream(b_->ports.internal, "hello", &messages);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), kUnhealthyText);
  EXPECT_EQ(messages, 0);
  // A self-call through b's own HTTP API: daprd's 500 ERR_DIRECT_INVOKE around that error.
  auto self = Invoke(b_->ports.http, "POST", "b", "echo", "hello");
  ASSERT_TRUE(self.ok()) << self.status();
  EXPECT_EQ(self->status(), 500);
  EXPECT_EQ(JsonStringField(self->body, "errorCode"), "ERR_DIRECT_INVOKE") << self->body;
  EXPECT_NE(self->body.find(kUnhealthyText), std::string::npos) << self->body;
  // The registration is withdrawn, so a stops picking b: its calls fail without reaching b's app.
  EXPECT_TRUE(WaitUntil([&] { return CountRegistryRows(db, "b") == 0; }, 10s));
  auto via_a = Invoke(a_->ports.http, "POST", "b", "echo", "hello");
  ASSERT_TRUE(via_a.ok()) << via_a.status();
  EXPECT_EQ(via_a->status(), 500) << via_a->body;
  // Measured, not asserted: how fast a refusal comes back (fresh connection per call).
  {
    constexpr int kRefusals = 50;
    int refused = 0;
    const auto t0 = Clock::now();
    for (int i = 0; i < kRefusals; ++i) {
      auto r = Invoke(b_->ports.http, "POST", "b", "echo", "x");
      if (r.ok() && r->status() == 500) ++refused;
    }
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kRefusals;
    EXPECT_EQ(refused, kRefusals);
    std::cout << "unhealthy app: " << refused << "/" << kRefusals << " self-calls refused with 500, mean "
              << us << " us per call (new connection each)\n";
  }
  EXPECT_EQ(app_->invocations(), seen_before) << "the app received calls while unhealthy";
  const auto failures = ReadMetric(b_->ports.metrics, "ringside_app_health_probe_failures_total");
  ASSERT_TRUE(failures.has_value());
  EXPECT_GE(*failures, 2);

  // Healthy again: registered again and a's calls pass.
  app_->set_healthy(true);
  ASSERT_TRUE(WaitForMetric(b_->ports.metrics, "ringside_app_healthy", 1, 10s));
  EXPECT_TRUE(WaitUntil([&] { return CountRegistryRows(db, "b") == 1; }, 10s));
  ASSERT_TRUE(WaitUntilInvocable(a_->ports.http, "b", 10s));
  st = CallLocal(b_->ports.internal, "again", &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.message().data().value(), "again");
  st = CallLocalStream(b_->ports.internal, "streamed", &messages);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_GT(messages, 0);
  EXPECT_GT(app_->invocations(), seen_before);
  // Each transition is logged once.
  const std::string log = b_->process->Log();
  auto count = [&](std::string_view needle) {
    size_t n = 0;
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("app entered unhealthy status"), 1u) << log;
  EXPECT_EQ(count("app entered healthy status"), 2u) << log;  // start-up, then the recovery
}

// Where the two-instance test registers its sidecars: SQLite or a real etcd.
struct Registry {
  std::string nr_db;                    // RINGSIDE_NR_SQLITE ("" = not SQLite)
  std::vector<std::string> extra_args;  // e.g. --config <etcd Configuration>
  std::function<int()> count_b;         // registrations of app id b now (-1 = unreadable)
};

// Two instances of b (each with health checks) and caller a in one registry: an unhealthy b
// is withdrawn and a's calls all go to the healthy one, counted at both apps.
void RunTwoInstances(const TempDir& dir, const Registry& registry) {
  HealthApp app1("b1");
  HealthApp app2("b2");
  std::vector<std::string> b_args = HealthFlags();
  b_args.insert(b_args.end(), registry.extra_args.begin(), registry.extra_args.end());
  auto b1 = StartSidecar({.app_id = "b", .app_port = app1.port(), .nr_db = registry.nr_db, .extra_args = b_args}, dir);
  ASSERT_TRUE(b1.ok()) << b1.status();
  auto b2 = StartSidecar({.app_id = "b", .app_port = app2.port(), .nr_db = registry.nr_db, .extra_args = b_args}, dir);
  ASSERT_TRUE(b2.ok()) << b2.status();
  auto a = StartSidecar({.app_id = "a", .nr_db = registry.nr_db, .extra_args = registry.extra_args}, dir);
  ASSERT_TRUE(a.ok()) << a.status();
  auto logs = [&] { return absl::StrCat("--- b1:\n", b1->process->LogTail(), "--- b2:\n", b2->process->LogTail(),
                                        "--- a:\n", a->process->LogTail()); };
  ASSERT_TRUE(WaitForMetric(b1->ports.metrics, "ringside_app_healthy", 1, 10s)) << logs();
  ASSERT_TRUE(WaitForMetric(b2->ports.metrics, "ringside_app_healthy", 1, 10s)) << logs();
  ASSERT_TRUE(WaitUntil([&] { return registry.count_b() == 2; }, 10s)) << logs();
  ASSERT_TRUE(WaitUntilInvocable(a->ports.http, "b", 10s)) << logs();

  // b1's app fails its probes: b1 withdraws; once a's table has dropped it, a's calls all
  // land on b2 (the wait below is bounded).
  app1.set_healthy(false);
  ASSERT_TRUE(WaitForMetric(b1->ports.metrics, "ringside_app_healthy", 0, 10s)) << logs();
  ASSERT_TRUE(WaitUntil([&] { return registry.count_b() == 1; }, 10s)) << logs();
  int streak = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = Invoke(a->ports.http, "POST", "b", "echo", "x", {}, 3s);
        streak = r.ok() && r->status() == 200 && r->header("X-App") == "b2" ? streak + 1 : 0;
        return streak >= 10;
      },
      15s))
      << logs();

  const int b1_before = app1.invocations();
  const int b2_before = app2.invocations();
  constexpr int kCalls = 40;
  int ok = 0;
  for (int i = 0; i < kCalls; ++i) {
    auto r = Invoke(a->ports.http, "POST", "b", "echo", absl::StrCat("call-", i), {}, 5s);
    if (r.ok() && r->status() == 200 && r->body == absl::StrCat("call-", i)) ++ok;
  }
  EXPECT_EQ(ok, kCalls) << logs();
  EXPECT_EQ(app1.invocations(), b1_before) << "the unhealthy instance's app received calls";
  EXPECT_EQ(app2.invocations() - b2_before, kCalls);
  std::cout << "calls " << kCalls << ": answered 200 " << ok << ", b1 (unhealthy) received "
            << app1.invocations() - b1_before << ", b2 received " << app2.invocations() - b2_before << "\n";

  // b1 recovers: registered again, and a reaches both instances again.
  app1.set_healthy(true);
  ASSERT_TRUE(WaitForMetric(b1->ports.metrics, "ringside_app_healthy", 1, 10s)) << logs();
  ASSERT_TRUE(WaitUntil([&] { return registry.count_b() == 2; }, 10s)) << logs();
  const int b1_after = app1.invocations();
  EXPECT_TRUE(WaitUntil(
      [&] {
        (void)Invoke(a->ports.http, "POST", "b", "echo", "y", {}, 3s);
        return app1.invocations() > b1_after;
      },
      15s))
      << logs();
}

TEST(AppHealthTwoInstancesTest, SqliteLeavesTheUnhealthyInstanceOut) {
  TempDir dir;
  const std::string db = dir.File("nr.db");
  RunTwoInstances(dir, {.nr_db = db, .count_b = [&] { return CountRegistryRows(db, "b"); }});
}

TEST(AppHealthTwoInstancesTest, EtcdLeavesTheUnhealthyInstanceOut) {
  TempDir dir;
  ringside::testing::EtcdServer etcd;
  absl::Status s = etcd.Start();
  ASSERT_TRUE(s.ok()) << "cannot run etcd (install etcd-server: scripts/install-deps.sh): " << s;
  const std::string config = dir.File("etcd-config.yaml");
  std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: etcd}\n"
                        << "spec:\n  nameResolution:\n    component: etcd\n    configuration:\n"
                        << "      endpoints: [\"" << etcd.endpoint() << "\"]\n"
                        << "      prefix: /e2e-health/instances\n      maxBackoff: 500ms\n";
  auto count_b = [&] {
    const std::string keys = etcd.Etcdctl("get --prefix --keys-only /e2e-health/instances/default/b/");
    int n = 0;
    for (size_t at = keys.find("/e2e-health/instances/default/b/"); at != std::string::npos;
         at = keys.find("/e2e-health/instances/default/b/", at + 1))
      ++n;
    return n;
  };
  RunTwoInstances(dir, {.extra_args = {"--config", config}, .count_b = count_b});
}

// A gRPC app: AppCallback/OnInvoke echoes and counts; AppCallbackHealthCheck answers OK or
// UNAVAILABLE as the test says (or is not registered at all: UNIMPLEMENTED).
class GrpcHealthApp {
 public:
  explicit GrpcHealthApp(bool implements_health) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&callback_);
    if (implements_health) builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
  }
  ~GrpcHealthApp() { server_->Shutdown(std::chrono::system_clock::now() + 2s); }
  uint16_t port() const { return static_cast<uint16_t>(port_); }
  void set_healthy(bool h) { health_.healthy.store(h); }
  int invocations() const { return callback_.invocations.load(); }

 private:
  struct Callback final : runtime::AppCallback::Service {
    grpc::Status OnInvoke(grpc::ServerContext*, const dapr::proto::common::v1::InvokeRequest* req,
                          dapr::proto::common::v1::InvokeResponse* resp) override {
      invocations.fetch_add(1);
      *resp->mutable_data() = req->data();
      resp->set_content_type(req->content_type());
      return grpc::Status::OK;
    }
    std::atomic<int> invocations{0};  // OnInvoke calls received
  };
  struct Health final : runtime::AppCallbackHealthCheck::Service {
    grpc::Status HealthCheck(grpc::ServerContext*, const google::protobuf::Empty*,
                             runtime::HealthCheckResponse*) override {
      return healthy.load() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNAVAILABLE, "sick");
    }
    std::atomic<bool> healthy{true};  // the answer
  };
  int port_ = 0;                          // bound port
  Callback callback_;                     // AppCallback
  Health health_;                         // AppCallbackHealthCheck
  std::unique_ptr<grpc::Server> server_;  // the app
};

absl::StatusOr<Sidecar> StartGrpcAppSidecar(const TempDir& dir, uint16_t app_port) {
  std::vector<std::string> args = HealthFlags();
  // The harness adds --app-protocol http with app_port; a later flag wins.
  args.insert(args.end(), {"--app-port", absl::StrCat(app_port), "--app-protocol", "grpc"});
  return StartSidecar({.app_id = "g", .nr_db = dir.File("nr.db"), .extra_args = args}, dir);
}

TEST(GrpcAppHealthTest, HealthCheckServiceDecidesAndCallsAreRefusedWhileUnhealthy) {
  TempDir dir;
  GrpcHealthApp app(/*implements_health=*/true);
  ASSERT_NE(app.port(), 0);
  auto g = StartGrpcAppSidecar(dir, app.port());
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(WaitForMetric(g->ports.metrics, "ringside_app_healthy", 1, 10s)) << g->process->LogTail();
  internals::InternalInvokeResponse resp;
  grpc::Status st = CallLocal(g->ports.internal, "hi", &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.message().data().value(), "hi");

  app.set_healthy(false);
  ASSERT_TRUE(WaitForMetric(g->ports.metrics, "ringside_app_healthy", 0, 10s)) << g->process->LogTail();
  const int seen = app.invocations();
  st = CallLocal(g->ports.internal, "hi", &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), kUnhealthyText);
  EXPECT_EQ(app.invocations(), seen);

  app.set_healthy(true);
  ASSERT_TRUE(WaitForMetric(g->ports.metrics, "ringside_app_healthy", 1, 10s)) << g->process->LogTail();
  st = CallLocal(g->ports.internal, "back", &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.message().data().value(), "back");
}

TEST(GrpcAppHealthTest, AppWithoutTheHealthServiceNeverBecomesHealthy) {
  TempDir dir;
  GrpcHealthApp app(/*implements_health=*/false);
  auto g = StartGrpcAppSidecar(dir, app.port());
  ASSERT_TRUE(g.ok()) << g.status();
  // Several probes answered UNIMPLEMENTED: still unhealthy (daprd counts every error as a failure).
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto f = ReadMetric(g->ports.metrics, "ringside_app_health_probe_failures_total");
        return f && *f >= 4;
      },
      10s))
      << g->process->LogTail();
  EXPECT_EQ(ReadMetric(g->ports.metrics, "ringside_app_healthy"), 0);
  internals::InternalInvokeResponse resp;
  grpc::Status st = CallLocal(g->ports.internal, "hi", &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), kUnhealthyText);
  EXPECT_EQ(app.invocations(), 0);
}

#if RINGSIDE_HAS_ALLOCCOUNT  // sanitizer builds own malloc and have no ringsided-alloccount
// The refusal path allocates nothing on shard threads: ringsided-alloccount in front of an app
// that never becomes healthy, CallLocal refusals over one kept connection, after a warm-up.
TEST(AppHealthAllocTest, RefusalsDoNotAllocateOnShardThreads) {
  if (!BinaryExists("ringsided-alloccount")) GTEST_FAIL() << BinPath("ringsided-alloccount") << " is not built";
  TempDir dir;
  HealthApp app("b");
  app.set_healthy(false);
  auto b = StartSidecar({.binary = "ringsided-alloccount", .app_id = "b", .app_port = app.port(),
                         .nr_db = dir.File("nr.db"), .extra_args = HealthFlags()},
                        dir);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(WaitUntil([&] { return app.probes() >= 2; }, 10s)) << b->process->LogTail();
  auto stub = internals::ServiceInvocation::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", b->ports.internal), grpc::InsecureChannelCredentials()));
  auto refuse = [&](int n) {
    int refused = 0;
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 5s);
      internals::InternalInvokeResponse resp;
      grpc::Status st = stub->CallLocal(&ctx, EchoRequest("x"), &resp);
      refused += st.error_code() == grpc::StatusCode::INTERNAL && st.error_message() == kUnhealthyText;
    }
    return refused;
  };
  EXPECT_EQ(refuse(300), 300);  // warm-up
  const auto before = ReadMetric(b->ports.metrics, "ringside_shard_heap_allocations_total");
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(refuse(1000), 1000);
  const auto after = ReadMetric(b->ports.metrics, "ringside_shard_heap_allocations_total");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after - *before, 0) << "refusals allocated on a shard thread";
  EXPECT_EQ(app.invocations(), 0);
  std::cout << "1000 refusals: shard allocations " << *before << " -> " << *after << "\n";
}
#endif  // RINGSIDE_HAS_ALLOCCOUNT

// Runs ringsided with `args` and returns (exit code, log).
std::pair<std::optional<int>, std::string> RunToExit(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> full = {"--app-id", "x", "--dapr-http-port", absl::StrCat(PickFreePort()),
                                   "--dapr-grpc-port", absl::StrCat(PickFreePort())};
  full.insert(full.end(), args.begin(), args.end());
  auto p = ChildProcess::Spawn(BinPath("ringsided"), full, {"RINGSIDE_NR_SQLITE=" + dir.File("nr.db")},
                               dir.File(absl::StrCat("bad-flags-", PickFreePort(), ".log")));
  if (!p.ok()) return {std::nullopt, std::string(p.status().message())};
  auto code = (*p)->WaitExit(10s);
  return {code, (*p)->Log()};
}

TEST(AppHealthFlagsTest, BadCombinationsExitTwoNamingTheFlag) {
  TempDir dir;
  auto [code, log] = RunToExit(dir, {"--enable-app-health-check", "--app-health-probe-interval", "1s",
                                     "--app-health-probe-timeout", "2s"});
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("--app-health-probe-timeout"), std::string::npos) << log;
  std::tie(code, log) = RunToExit(dir, {"--enable-app-health-check", "--app-health-probe-interval", "0"});
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("--app-health-probe-interval"), std::string::npos) << log;
  std::tie(code, log) = RunToExit(dir, {"--enable-app-health-check", "--app-health-threshold", "0"});
  EXPECT_EQ(code, 2) << log;
  EXPECT_NE(log.find("--app-health-threshold"), std::string::npos) << log;
}

}  // namespace
}  // namespace ringside::e2e
