// Issue 11: the shards' bounded tables behind daprd's series, and their Prometheus text.
#include "dataplane/runtime/dapr_metrics.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "dataplane/runtime/dapr_metrics_text.h"

namespace ringside::shard {
namespace {

TEST(LabelTableTest, SameKeySameRowNewKeysUntilFullThenTheOverflowRow) {
  auto table = std::make_unique<LabelTable<std::atomic<uint64_t>, 4, 8>>();
  std::atomic<uint64_t>& a = table->row("a");
  EXPECT_EQ(&a, &table->row("a"));
  EXPECT_NE(&a, &table->row("b"));
  table->row("c");
  table->row("d");
  EXPECT_EQ(&table->row("e"), &table->overflow) << "a fifth key in a 4-slot table";
  EXPECT_EQ(&table->row("123456789"), &table->overflow) << "a key longer than the slot";
  EXPECT_EQ(&table->row("d"), &table->row("d")) << "known keys still find their slot when full";
  int seen = 0;
  bool overflow_named = false;
  table->for_each([&](std::string_view key, const std::atomic<uint64_t>&) {
    ++seen;
    overflow_named |= key == "_other";
  });
  EXPECT_EQ(seen, 5);
  EXPECT_TRUE(overflow_named);
}

TEST(BoundedHttpPathTest, KeepsTheInvokePrefixAndTheMethodsFirstSegment) {
  EXPECT_EQ(bounded_http_path("/v1.0/invoke/b/method/echo"), "/v1.0/invoke/b/method/echo");
  EXPECT_EQ(bounded_http_path("/v1.0/invoke/b/method/orders/123/items"), "/v1.0/invoke/b/method/orders");
  EXPECT_EQ(bounded_http_path("/v1.0/invoke/b.ns/method/"), "/v1.0/invoke/b.ns/method/");
  EXPECT_EQ(bounded_http_path("/v1.0/invoke/b"), "/v1.0/invoke/b");
  EXPECT_EQ(bounded_http_path("/v1.0/healthz"), "/v1.0/healthz");
  EXPECT_EQ(bounded_http_path("/v1.0/healthz/outbound"), "/v1.0/healthz");
  EXPECT_EQ(bounded_http_path("/orders/1/2"), "/orders/1");
}

TEST(MsHistogramTest, BucketsAreDaprdsMilliseconds) {
  MsHistogram h;
  h.record_ns(500'000);       // 0.5 ms → le 1
  h.record_ns(1'000'000);     // 1 ms → le 1 (bounds are inclusive)
  h.record_ns(7'000'000);     // 7 ms → le 8
  h.record_ns(200'000'000'000);  // 200 s → +Inf
  EXPECT_EQ(h.buckets[0].load(), 2u);
  EXPECT_EQ(h.buckets[6].load(), 1u);
  EXPECT_EQ(h.buckets[kDaprLatencyBuckets - 1].load(), 1u);
}

TEST(DaprMetricsTextTest, SumsShardsUnderDaprdsNamesAndMakesLabelValuesSafe) {
  auto shards = std::make_unique<ShardCounters[]>(2);
  shards[0].dapr.note_req_sent("b", InvokeType::kUnary);
  shards[1].dapr.note_req_sent("b", InvokeType::kUnary);
  shards[1].dapr.note_req_sent("b", InvokeType::kStreaming);
  shards[0].dapr.note_res_recv("b", InvokeType::kUnary, 14, 2'000'000);
  shards[0].dapr.note_req_recv("we\"ird");
  shards[0].dapr.note_fixed_grpc_served(GrpcServedMethod::kCallLocal, 0, 1'000);
  std::string out;
  metrics_text::append_dapr_metrics(&out, shards.get(), 2, "a");
  EXPECT_NE(out.find("dapr_runtime_service_invocation_req_sent_total{app_id=\"a\",dst_app_id=\"b\",type=\"unary\"} 2\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("dapr_runtime_service_invocation_req_sent_total{app_id=\"a\",dst_app_id=\"b\",type=\"streaming\"} 1\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("dapr_runtime_service_invocation_res_recv_total{app_id=\"a\",src_app_id=\"b\",status=\"14\",type=\"unary\"} 1\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("dapr_runtime_service_invocation_res_recv_latency_ms_bucket{app_id=\"a\",src_app_id=\"b\",status=\"14\",le=\"2\"} 1\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("dapr_runtime_service_invocation_req_recv_total{app_id=\"a\",src_app_id=\"we_ird\"} 1\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("dapr_grpc_io_server_completed_rpcs{app_id=\"a\",grpc_server_method=\"/dapr.proto.internals.v1.ServiceInvocation/CallLocal\",grpc_server_status=\"OK\"} 1\n"),
            std::string::npos) << out;
  EXPECT_EQ(out.find("_other"), std::string::npos) << "empty overflow rows are not rendered\n" << out;
}

}  // namespace
}  // namespace ringside::shard
