// Issue 11, Prometheus: daprd's invocation series counted by ringsided, and a REAL Prometheus
// (Debian's `prometheus`, scripts/install-deps.sh) scraping two sidecars every second and
// answering PromQL over what it scraped. No timing assertions: every wait is bounded, and the
// figures seen are printed.
#include <gtest/gtest.h>

#include <signal.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/topology.h"

namespace ringside::e2e {
namespace {

constexpr int kCalls = 40;  // invocations a → b the assertions count

// The /metrics page of a sidecar ("" when it cannot be read).
std::string MetricsText(uint16_t port) {
  RequestSpec spec;
  spec.target = "/metrics";
  spec.content_length = false;
  auto r = Send(port, spec, 5s);
  return r.ok() && r->status() == 200 ? r->body : std::string();
}

// Sends kCalls POST invocations of b's echo method through a; returns how many answered 200.
int CallB(const Topology& t, std::string_view method = "echo") {
  int ok = 0;
  for (int i = 0; i < kCalls; ++i) {
    auto r = Invoke(t.a.ports.http, "POST", "b", method, absl::StrCat("call ", i));
    if (r.ok() && r->status() == 200) ++ok;
  }
  return ok;
}

TEST(PrometheusTest, DaprInvocationSeriesCountEveryCallOnBothSidecars) {
  Topology t;
  const absl::Status started = t.Start();
  ASSERT_TRUE(started.ok()) << started;
  const auto sent0 = ReadMetric(t.a.ports.metrics, "dapr_runtime_service_invocation_req_sent_total");
  const auto recv0 = ReadMetric(t.a.ports.metrics, "dapr_runtime_service_invocation_res_recv_total");
  const auto lat0 = ReadMetric(t.a.ports.metrics, "dapr_runtime_service_invocation_res_recv_latency_ms_count");
  const auto req_recv0 = ReadMetric(t.b.ports.metrics, "dapr_runtime_service_invocation_req_recv_total");
  const auto res_sent0 = ReadMetric(t.b.ports.metrics, "dapr_runtime_service_invocation_res_sent_total");
  const auto http0 = ReadMetric(t.a.ports.metrics, "dapr_http_server_request_count");
  ASSERT_TRUE(sent0 && recv0 && lat0 && req_recv0 && res_sent0) << "a dapr_runtime_service_invocation_* series is "
                                                                   "missing after the warm-up calls\n"
                                                                << MetricsText(t.a.ports.metrics);
  ASSERT_EQ(CallB(t), kCalls) << t.Logs();

  EXPECT_EQ(*ReadMetric(t.a.ports.metrics, "dapr_runtime_service_invocation_req_sent_total") - *sent0, kCalls);
  EXPECT_EQ(*ReadMetric(t.a.ports.metrics, "dapr_runtime_service_invocation_res_recv_total") - *recv0, kCalls);
  EXPECT_EQ(*ReadMetric(t.a.ports.metrics, "dapr_runtime_service_invocation_res_recv_latency_ms_count") - *lat0, kCalls);
  EXPECT_EQ(*ReadMetric(t.b.ports.metrics, "dapr_runtime_service_invocation_req_recv_total") - *req_recv0, kCalls);
  EXPECT_EQ(*ReadMetric(t.b.ports.metrics, "dapr_runtime_service_invocation_res_sent_total") - *res_sent0, kCalls);
  EXPECT_EQ(ReadMetric(t.a.ports.metrics, "dapr_http_server_request_count").value_or(0) - http0.value_or(0), kCalls);

  // The labels daprd's dashboards group by: the peer's app id on each side, type and status.
  const std::string a_text = MetricsText(t.a.ports.metrics);
  const std::string b_text = MetricsText(t.b.ports.metrics);
  EXPECT_NE(a_text.find("dapr_runtime_service_invocation_req_sent_total{app_id=\"a\",dst_app_id=\"b\",type=\"unary\"}"),
            std::string::npos) << a_text;
  EXPECT_NE(a_text.find("dapr_runtime_service_invocation_res_recv_total{app_id=\"a\",src_app_id=\"b\",status=\"0\",type=\"unary\"}"),
            std::string::npos) << a_text;
  EXPECT_NE(a_text.find("dapr_runtime_service_invocation_res_recv_latency_ms_bucket{app_id=\"a\",src_app_id=\"b\",status=\"0\",le=\"+Inf\"}"),
            std::string::npos) << a_text;
  EXPECT_NE(b_text.find("dapr_runtime_service_invocation_req_recv_total{app_id=\"b\",src_app_id=\"a\"}"), std::string::npos)
      << b_text;
  EXPECT_NE(b_text.find("dapr_runtime_service_invocation_res_sent_total{app_id=\"b\",dst_app_id=\"a\",status=\"0\"}"),
            std::string::npos) << b_text;
  EXPECT_NE(a_text.find("dapr_http_server_request_count{app_id=\"a\",method=\"POST\",path=\"/v1.0/invoke/b/method/echo\",status=\"200\"}"),
            std::string::npos) << a_text;
  if (HasFailure()) std::cerr << t.Logs();
}

// The gRPC API port: Dapr/InvokeService calls count in dapr_grpc_io_server_completed_rpcs (and,
// on the internal port of b, CallLocal), with OpenCensus's status names.
TEST(PrometheusTest, GrpcServerSeriesCountInvokeServiceAndCallLocal) {
  Topology t;
  const absl::Status started = t.Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::string kInvokeService =
      "dapr_grpc_io_server_completed_rpcs{app_id=\"a\",grpc_server_method=\"/dapr.proto.runtime.v1.Dapr/InvokeService\","
      "grpc_server_status=\"OK\"} ";
  auto dapr = dapr::proto::runtime::v1::Dapr::NewStub(LocalChannel(t.a.ports.grpc));
  int ok = 0;
  for (int i = 0; i < kCalls; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    dapr::proto::runtime::v1::InvokeServiceRequest request;
    request.set_id("b");
    request.mutable_message()->set_method("echo");
    request.mutable_message()->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::POST);
    dapr::proto::common::v1::InvokeResponse response;
    if (dapr->InvokeService(&context, request, &response).ok()) ++ok;
  }
  ASSERT_EQ(ok, kCalls) << t.Logs();
  const std::string text = MetricsText(t.a.ports.metrics);
  const size_t at = text.find(kInvokeService);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_EQ(text.substr(at + kInvokeService.size(), text.find('\n', at) - at - kInvokeService.size()),
            absl::StrCat(kCalls));
  const double call_local = ReadMetric(t.b.ports.metrics, "dapr_grpc_io_server_completed_rpcs").value_or(-1);
  EXPECT_GE(call_local, kCalls) << "b's internal port: CallLocal";
  EXPECT_EQ(call_local, ReadMetric(t.b.ports.metrics, "dapr_runtime_service_invocation_req_recv_total").value_or(-2));
}

// The HTTP `path` label is bounded: only the first segment of the method is kept, so a method
// with a per-call id does not add a series per call.
TEST(PrometheusTest, HttpPathLabelKeepsOnlyTheMethodsFirstSegment) {
  Topology t;
  const absl::Status started = t.Start();
  ASSERT_TRUE(started.ok()) << started;
  for (int i = 0; i < 5; ++i) {
    auto r = Invoke(t.a.ports.http, "POST", "b", absl::StrCat("orders/", i, "?x=", i), "x");
    ASSERT_TRUE(r.ok()) << r.status();
  }
  const std::string text = MetricsText(t.a.ports.metrics);
  const std::string line = "dapr_http_server_request_count{app_id=\"a\",method=\"POST\",path=\"/v1.0/invoke/b/method/orders\",";
  const size_t at = text.find(line);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_EQ(text.find("/method/orders/"), std::string::npos) << "a per-call segment reached the path label:\n" << text;
}

// ---- a real Prometheus ---------------------------------------------------------------------

// Percent-encodes a PromQL expression for a query string.
std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// The single value of an instant-vector query's first sample; nullopt if Prometheus has none
// (yet) or does not answer. The JSON is {"status":"success","data":{"resultType":"vector",
// "result":[{"metric":{...},"value":[<ts>,"<value>"]}]}}: the value is the last quoted string.
std::optional<double> Query(uint16_t prom_port, std::string_view promql, std::string* raw = nullptr) {
  RequestSpec spec;
  spec.target = absl::StrCat("/api/v1/query?query=", UrlEncode(promql));
  spec.content_length = false;
  auto r = Send(prom_port, spec, 5s);
  if (!r.ok() || r->status() != 200) return std::nullopt;
  if (raw) *raw = r->body;
  const size_t v = r->body.find("\"value\":[");
  if (v == std::string::npos) return std::nullopt;
  const size_t q1 = r->body.find('"', r->body.find(',', v));
  const size_t q2 = q1 == std::string::npos ? q1 : r->body.find('"', q1 + 1);
  if (q2 == std::string::npos) return std::nullopt;
  double d = 0;
  if (!absl::SimpleAtod(r->body.substr(q1 + 1, q2 - q1 - 1), &d)) return std::nullopt;
  return d;
}

// Polls `promql` until it equals `want` (bounded); returns the last value seen.
std::optional<double> QueryUntil(uint16_t prom_port, std::string_view promql, double want,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::optional<double> last;
  while (Clock::now() < deadline) {
    last = Query(prom_port, promql);
    if (last && *last == want) return last;
    std::this_thread::sleep_for(250ms);
  }
  return last;
}

std::string PrometheusBinary() {
  for (const char* p : {"/usr/bin/prometheus", "/usr/local/bin/prometheus"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

TEST(PrometheusTest, RealPrometheusScrapesTwoSidecarsAndAnswersPromQl) {
  const std::string prometheus = PrometheusBinary();
  ASSERT_FALSE(prometheus.empty()) << "prometheus is not installed (Debian package `prometheus`; run "
                                      "scripts/install-deps.sh): this test needs a real Prometheus";
  Topology t;
  const absl::Status started = t.Start();
  ASSERT_TRUE(started.ok()) << started;

  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const uint16_t prom_port = PickFreePort();
  const std::string config = dir.File("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                           "scrape_configs:\n  - job_name: ringside\n    static_configs:\n"
                        << "      - targets: ['127.0.0.1:" << t.a.ports.metrics << "', '127.0.0.1:"
                        << t.b.ports.metrics << "']\n";
  auto prom = ChildProcess::Spawn(prometheus,
                                  {"--config.file=" + config, "--storage.tsdb.path=" + dir.File("tsdb"),
                                   absl::StrCat("--web.listen-address=127.0.0.1:", prom_port),
                                   "--log.level=warn"},
                                  {}, dir.File("prometheus.log"));
  ASSERT_TRUE(prom.ok()) << prom.status();
  // Ready (bounded): /-/ready answers 200 once the TSDB is open.
  const auto ready_deadline = Clock::now() + 30s;
  bool ready = false;
  while (!ready && Clock::now() < ready_deadline && (*prom)->Alive()) {
    RequestSpec spec;
    spec.target = "/-/ready";
    spec.content_length = false;
    auto r = Send(prom_port, spec, 2s);
    ready = r.ok() && r->status() == 200;
    if (!ready) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(ready) << "prometheus not ready within 30 s\n" << (*prom)->LogTail();

  ASSERT_EQ(CallB(t), kCalls) << t.Logs();
  // What the sidecars say now (no more calls follow): Prometheus must come to the same sums.
  const double sent = ReadMetric(t.a.ports.metrics, "dapr_runtime_service_invocation_req_sent_total").value_or(-1);
  const double recv = ReadMetric(t.b.ports.metrics, "dapr_runtime_service_invocation_req_recv_total").value_or(-1);
  const double peer_rt = ReadMetric(t.a.ports.metrics, "ringside_stage_latency_seconds_count").value_or(-1);
  ASSERT_GE(sent, kCalls);  // plus Topology's warm-up calls
  ASSERT_EQ(sent, recv) << "a sent " << sent << " calls, b received " << recv;

  const auto p_sent = QueryUntil(prom_port, "sum(dapr_runtime_service_invocation_req_sent_total{dst_app_id=\"b\"})", sent, 20s);
  EXPECT_EQ(p_sent.value_or(-1), sent) << "Prometheus's sum of req_sent";
  const auto p_recv =
      QueryUntil(prom_port, "sum(dapr_runtime_service_invocation_req_recv_total{app_id=\"b\",src_app_id=\"a\"})", recv, 10s);
  EXPECT_EQ(p_recv.value_or(-1), recv) << "Prometheus's sum of req_recv";
  const auto p_http = QueryUntil(prom_port, "sum(dapr_http_server_request_count{app_id=\"a\",status=\"200\"})",
                                 ReadMetric(t.a.ports.metrics, "dapr_http_server_request_count").value_or(-1), 10s);
  EXPECT_GE(p_http.value_or(-1), kCalls) << "Prometheus's sum of dapr_http_server_request_count";
  // Every stage histogram of a (peer_round_trip and the others) reaches Prometheus.
  std::string raw;
  const auto p_count = Query(prom_port, "sum(ringside_stage_latency_seconds_count{app_id=\"a\"})", &raw);
  EXPECT_EQ(p_count.value_or(-1), peer_rt) << raw;
  // And PromQL can take quantiles of them: the median peer round trip and ingress parse are real
  // durations (above 0, under the 1 s top bucket on a loopback call).
  for (const char* stage : {"peer_round_trip", "ingress_parse", "response_write"}) {
    const std::string q = absl::StrCat("histogram_quantile(0.5, sum by (le) (ringside_stage_latency_seconds_bucket{app_id=\"a\",stage=\"",
                                       stage, "\"}))");
    const auto p50 = Query(prom_port, q, &raw);
    ASSERT_TRUE(p50.has_value()) << q << " → " << raw;
    EXPECT_GT(*p50, 0) << stage;
    EXPECT_LT(*p50, 1) << stage;
    std::cerr << "Prometheus: p50 " << stage << " on a = " << *p50 * 1e6 << " µs\n";
  }
  const std::string q = "histogram_quantile(0.9, sum by (le) (dapr_runtime_service_invocation_res_recv_latency_ms_bucket{app_id=\"a\"}))";
  const auto p90 = Query(prom_port, q, &raw);
  ASSERT_TRUE(p90.has_value()) << q << " → " << raw;
  EXPECT_GT(*p90, 0);
  std::cerr << "Prometheus: req_sent " << p_sent.value_or(-1) << ", req_recv " << p_recv.value_or(-1)
            << ", res_recv_latency p90 " << *p90 << " ms\n";
  (*prom)->Signal(SIGKILL);
  if (HasFailure()) std::cerr << (*prom)->LogTail() << t.Logs();
}

}  // namespace
}  // namespace ringside::e2e
