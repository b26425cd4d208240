// Transparent gRPC proxying under load and at the edges (spec §4.3; issue 3): 10,000 messages on
// one bidi stream, cancellation and deadlines that reach the app, a 16 MiB unary message
// through sidecars started with --max-body-size 32Mi, and a slow reader with a 2 GiB window
// that must not cost the sidecar its whole window.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc/impl/codegen/grpc_types.h"
#include "tests/e2e/grpc_helpers.h"
#include "tests/e2e/wide_window_reader.h"

namespace ringside::e2e {
namespace {

class GrpcProxyStreamTest : public GrpcTopologyTest {
 protected:
  static void SetUpTestSuite() { StartTopology({.max_body_size = "32Mi", .with_http_app = false}); }
  static void TearDownTestSuite() { StopTopology(); }
  void SetUp() override {
    GrpcTopologyTest::SetUp();
    if (HasFatalFailure()) return;
    stub_ = testpb::Echo::NewStub(LocalChannel(topology().a.ports.grpc));
  }
  // The app's cancelled-call count now (-1 if the app cannot be asked).
  int64_t AppCancels() {
    auto stats = topology().AppStats();
    return stats.ok() ? stats->cancelled_calls() : -1;
  }
  // Waits (≤ 5 s) until the app has counted more than `before` cancelled calls.
  bool AppSawCancelAfter(int64_t before) {
    testpb::StatsResponse last;
    return topology().WaitForAppStats(
        [before](const testpb::StatsResponse& s) { return s.cancelled_calls() > before; }, 5s, &last);
  }
  std::unique_ptr<testpb::Echo::Stub> stub_;  // talks to sidecar a's gRPC API port
};

TEST_F(GrpcProxyStreamTest, TenThousandBidiMessagesArriveInOrder) {
  constexpr int kMessages = 10'000;
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b", 90s);
  auto stream = stub_->Bidi(&context);
  // Writer and reader run at once: with one thread, flow control would stall both directions.
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < kMessages; ++i) {
      testpb::EchoRequest request;
      request.set_seq(i);
      request.set_text(absl::StrCat("message ", i));
      request.set_payload(std::string(64 + i % 64, static_cast<char>('a' + i % 26)));
      if (!stream->Write(request)) break;
      written.store(i + 1, std::memory_order_relaxed);
    }
    stream->WritesDone();
  });
  testpb::EchoResponse response;
  int received = 0;
  int out_of_order = 0;
  while (stream->Read(&response)) {
    if (response.seq() != received || response.text() != absl::StrCat("message ", received)) ++out_of_order;
    ++received;
  }
  writer.join();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(written.load(), kMessages);
  EXPECT_EQ(received, kMessages);
  EXPECT_EQ(out_of_order, 0);
}

TEST_F(GrpcProxyStreamTest, CancellingABidiStreamMidwayReachesTheApp) {
  const int64_t before = AppCancels();
  ASSERT_GE(before, 0);
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b", 10s);
  auto stream = stub_->Bidi(&context);
  for (int i = 0; i < 3; ++i) {
    testpb::EchoRequest request;
    request.set_seq(i);
    ASSERT_TRUE(stream->Write(request));
    testpb::EchoResponse response;
    ASSERT_TRUE(stream->Read(&response)) << "the stream must be live at the app before the cancel";
  }
  context.TryCancel();  // RST_STREAM(CANCEL) to sidecar a
  const grpc::Status status = stream->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << Describe(status);
  EXPECT_TRUE(AppSawCancelAfter(before)) << "the cancel did not propagate through both sidecars to the app";
}

TEST_F(GrpcProxyStreamTest, CancellingAServerStreamMidwayReachesTheApp) {
  const int64_t before = AppCancels();
  ASSERT_GE(before, 0);
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b", 10s);
  testpb::EchoRequest request;
  request.set_count(10'000);
  request.set_delay_ms(10);  // ~100 s of responses unless cancelled
  auto reader = stub_->ServerStream(&context, request);
  testpb::EchoResponse response;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader->Read(&response)) << "response " << i;
  context.TryCancel();
  const grpc::Status status = reader->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << Describe(status);
  EXPECT_TRUE(AppSawCancelAfter(before)) << "the app kept streaming after the client cancelled";
}

TEST_F(GrpcProxyStreamTest, DeadlineExceededMidUnaryCall) {
  const int64_t before = AppCancels();
  ASSERT_GE(before, 0);
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b", 500ms);
  testpb::EchoRequest request;
  request.set_delay_ms(5000);
  testpb::EchoResponse response;
  const Clock::time_point start = Clock::now();
  const grpc::Status status = stub_->Unary(&context, request, &response);
  const auto elapsed = Clock::now() - start;
  ASSERT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << Describe(status);
  EXPECT_LT(elapsed, 3s) << "the deadline must end the call, not the app's answer";
  // grpc-timeout travelled with the call: the app saw a deadline no later than the client's,
  // and ended the call when it passed.
  testpb::StatsResponse stats;
  EXPECT_TRUE(topology().WaitForAppStats(
      [before](const testpb::StatsResponse& s) { return s.cancelled_calls() > before; }, 5s, &stats))
      << "the app never saw the deadline";
  EXPECT_EQ(stats.last_method(), "/ringside.test.v1.Echo/Unary");
  EXPECT_GT(stats.last_deadline_ms(), 0) << "no grpc-timeout reached the app";
  EXPECT_LE(stats.last_deadline_ms(), 500);
}

TEST_F(GrpcProxyStreamTest, DeadlineExceededMidBidiStream) {
  const int64_t before = AppCancels();
  ASSERT_GE(before, 0);
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b", 1s);
  auto stream = stub_->Bidi(&context);
  testpb::EchoRequest request;
  ASSERT_TRUE(stream->Write(request));
  testpb::EchoResponse response;
  ASSERT_TRUE(stream->Read(&response));
  // Now the stream idles (request side still open) until the deadline passes.
  const Clock::time_point start = Clock::now();
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << Describe(status);
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_TRUE(AppSawCancelAfter(before)) << "the app's stream outlived the caller's deadline";
}

TEST_F(GrpcProxyStreamTest, SixteenMiBUnaryMessageBothWays) {
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b", 60s);
  testpb::EchoRequest request;
  request.set_payload(RandomBytes(16 << 20, 16));
  request.set_text("big");
  testpb::EchoResponse response;
  const grpc::Status status = stub_->Unary(&context, request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.text(), "big");
  EXPECT_EQ(response.payload().size(), request.payload().size());
  EXPECT_TRUE(response.payload() == request.payload()) << "payload bytes changed on the way";
}

// A client that grants a 2 GiB HTTP/2 window and then stops reading while 128 MiB of
// server-stream answers come its way. What sidecar a may hold for that stream is bounded by
// design: the receive window it grants b per stream (http2::SessionSettings::initial_stream_window,
// 8 MiB), the stream queue's high watermark (256 KiB) and the transport's output high water
// (TransportLink::kOutputHighWater, 512 KiB). Without those bounds a would copy whatever the
// client's window allows into user-space socket output: here, most of the 128 MiB.
TEST_F(GrpcProxyStreamTest, SlowReaderWithAHugeWindowKeepsTheSidecarsOutputBounded) {
  testpb::EchoRequest request;
  request.set_payload(RandomBytes(1u << 20, 7));
  const std::vector<std::pair<std::string, std::string>> metadata = {{"dapr-app-id", "b"}};
  // Warm-up: the same call shape with 16 MiB answers, read as they come (a's receive ring, pools
  // and the peer connection become resident, as under any traffic), on 8 connections so that
  // every shard serves some. Without it, whether a shard's first large stream lands before or
  // after the baseline decides the figure (+12..25 MiB measured with 2 shards).
  for (int round = 0; round < 8; ++round) {
    request.set_count(16);
    auto warm = CallWithWideWindow(topology().a.ports.grpc, "/ringside.test.v1.Echo/ServerStream", metadata,
                                   request.SerializeAsString(), 0ms, 30s);
    ASSERT_TRUE(warm.ok()) << warm.status();
    ASSERT_EQ(warm->grpc_status, "0");
    ASSERT_EQ(warm->messages.size(), 16u);
  }
  const pid_t a_pid = topology().a.process->pid();
  const uint64_t baseline = PeakRssBytes(a_pid);
  ASSERT_GT(baseline, 0u);

  constexpr int kMessages = 128;
  request.set_count(kMessages);
  auto result = CallWithWideWindow(topology().a.ports.grpc, "/ringside.test.v1.Echo/ServerStream", metadata,
                                   request.SerializeAsString(), 2000ms, 60s);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->grpc_status, "0");
  ASSERT_EQ(result->messages.size(), size_t{kMessages});
  for (const std::string& bytes : result->messages) {
    testpb::EchoResponse response;
    ASSERT_TRUE(response.ParseFromString(bytes));
    ASSERT_EQ(response.payload().size(), 1u << 20);
  }
  const uint64_t peak = PeakRssBytes(a_pid);
  std::cout << "sidecar a VmHWM: " << baseline / 1024 << " KiB after warm-up, " << peak / 1024
            << " KiB after the slow reader\n";
  // The design bound: 8 MiB + 768 KiB of queued bytes, held in a shard-pool block that grows by
  // doubling while the smaller blocks it outgrew stay in the pool for reuse (so up to twice the
  // bytes are resident), plus 6 MiB for a shard serving its first large stream. Measured
  // (Release) after the warm-up: +0.1..1.2 MiB with 1 shard, +0.1..3.7 MiB with 2. Without the output bound, a fails the call (its socket output
  // outgrows the largest pool block after ~6 MiB reach the client) or holds the client's window.
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kAllowance = uint64_t{32} << 20;  // ASan's redzones on every block touched
#else
  constexpr uint64_t kAllowance = 2 * ((uint64_t{8} << 20) + (uint64_t{768} << 10)) + (uint64_t{6} << 20);
#endif
  EXPECT_LT(peak, baseline + kAllowance)
      << "a's peak RSS grew by " << (peak - std::min(peak, baseline)) / 1024 << " KiB";
}

TEST_F(GrpcProxyStreamTest, SidecarsKeepServingAfterCancelsAndDeadlines) {
  // Runs last in this file (gtest keeps declaration order): the sidecars are still usable.
  grpc::ClientContext context;
  PrepareProxyCall(&context, "b");
  testpb::EchoRequest request;
  request.set_text("still here");
  testpb::EchoResponse response;
  const grpc::Status status = stub_->Unary(&context, request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.text(), "still here");
}

}  // namespace
}  // namespace ringside::e2e
