// Streaming calls through an in-memory GrpcClientConnection/GrpcServerConnection pair: all
// four stream kinds, flow control with a slow receiver, cancellation both ways, trailers-only
// and status details.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dataplane/grpc/status.h"
#include "tests/unit/grpc/stream_app.h"

namespace ringside::grpc {
namespace {

using testing::bytes_of;
using testing::find;
using testing::frame;
using testing::StreamClientHandler;
using testing::StreamServerApp;

using Pair = testing::StreamPair<StreamServerApp, StreamClientHandler>;

struct Fixture {
  explicit Fixture(http2::SessionSettings settings = {})
      : p(&pool, &app, &ch, settings) {
    app.conn = &p.server;
    ch.conn = &p.client;
  }
  int32_t start(std::string_view path, std::span<const Metadata> md = {}) {
    int32_t id = p.client.start_stream(path, "peer", md, 0, nullptr);
    ch.stream = id;
    return id;
  }
  // Sends n messages "m<i>" respecting the watermark, pumping as it goes, then half-closes.
  // Returns the largest queue seen.
  size_t send_all(int32_t id, int n) {
    size_t max_queued = 0;
    int i = 0;
    for (int round = 0; round < 1000000 && i < n; ++round) {
      while (i < n && p.client.queued_bytes(id) < kStreamHighWatermark) {
        EXPECT_TRUE(p.client.send_data(id, bytes_of(frame("m" + std::to_string(i++)))));
        max_queued = std::max(max_queued, p.client.queued_bytes(id));
      }
      p.step();
    }
    EXPECT_EQ(i, n);
    EXPECT_TRUE(p.client.close_send(id));
    p.pump();
    return max_queued;
  }
  mem::ShardPool pool;
  StreamServerApp app;
  StreamClientHandler ch;
  Pair p;
};

constexpr int kMany = 10000;

TEST(GrpcStream, BidiTenThousandMessagesInOrder) {
  Fixture f;
  Metadata md[] = {{"x-client", "c1"}};
  int32_t id = f.start("/test.Stream/Echo", md);
  ASSERT_GT(id, 0);
  f.send_all(id, kMany);
  ASSERT_TRUE(f.ch.ended);
  EXPECT_EQ(f.ch.status, 0) << f.ch.message;
  EXPECT_EQ(f.ch.headers_seen, 1u);
  EXPECT_EQ(find(f.ch.headers, "x-reply-header"), "h1");
  EXPECT_EQ(find(f.ch.trailers, "x-reply-trailer"), "t1");
  ASSERT_EQ(f.ch.in.messages.size(), static_cast<size_t>(kMany));
  for (int i = 0; i < kMany; ++i) ASSERT_EQ(f.ch.in.messages[i], "m" + std::to_string(i));
  ASSERT_EQ(f.app.calls.size(), 1u);
  const auto& call = f.app.calls.begin()->second;
  EXPECT_EQ(find(call.metadata, "x-client"), "c1");
  EXPECT_EQ(call.in.messages.size(), static_cast<size_t>(kMany));
  EXPECT_EQ(f.p.client.active_calls(), 0u);
  EXPECT_EQ(f.p.server.active_calls(), 0u);
}

TEST(GrpcStream, ClientStreamingTenThousandMessages) {
  Fixture f;
  int32_t id = f.start("/test.Stream/Sum");
  f.send_all(id, kMany);
  ASSERT_TRUE(f.ch.ended);
  EXPECT_EQ(f.ch.status, 0);
  ASSERT_EQ(f.ch.in.messages.size(), 1u);
  EXPECT_EQ(f.ch.in.messages[0], "10000:m9999");
  const auto& call = f.app.calls.begin()->second;
  for (int i = 0; i < kMany; ++i) ASSERT_EQ(call.in.messages[i], "m" + std::to_string(i));
}

TEST(GrpcStream, ServerStreamingTenThousandMessages) {
  Fixture f;
  Metadata md[] = {{"x-count", "10000"}};
  int32_t id = f.start("/test.Stream/Range", md);
  ASSERT_TRUE(f.p.client.close_send(id));
  f.p.pump();
  ASSERT_TRUE(f.ch.ended);
  EXPECT_EQ(f.ch.status, 0);
  ASSERT_EQ(f.ch.in.messages.size(), static_cast<size_t>(kMany));
  for (int i = 0; i < kMany; ++i) ASSERT_EQ(f.ch.in.messages[i], "r" + std::to_string(i));
  EXPECT_LT(f.app.max_queued, kStreamHighWatermark + 64);
}

TEST(GrpcStream, UnaryThroughTheStreamApi) {
  Fixture f;
  int32_t id = f.start("/test.Stream/Unary");
  ASSERT_TRUE(f.p.client.send_data(id, bytes_of(frame("ping"))));
  ASSERT_TRUE(f.p.client.close_send(id));
  EXPECT_FALSE(f.p.client.send_data(id, bytes_of(frame("late"))));  // half-closed
  f.p.pump();
  ASSERT_TRUE(f.ch.ended);
  EXPECT_EQ(f.ch.status, 0);
  EXPECT_EQ(find(f.ch.headers, "x-reply-header"), "u1");
  EXPECT_EQ(find(f.ch.trailers, "x-reply-trailer"), "u2");
  ASSERT_EQ(f.ch.in.messages.size(), 1u);
  EXPECT_EQ(f.ch.in.messages[0], "ping");
}

TEST(GrpcStream, UnaryAndStreamCallsShareAConnection) {
  Fixture f;
  testing::TestClientHandler unary_handler;  // not used: unary completions go to f.ch
  (void)unary_handler;
  int32_t sid = f.start("/test.Stream/Echo");
  ASSERT_TRUE(f.p.client.send_data(sid, bytes_of(frame("s"))));
  f.p.pump();
  // A unary call to a unary-classified path still works while the stream is open.
  struct UnaryCatcher : StreamClientHandler {
    int unary_status = -1;
    std::string unary_message;
    void on_unary_complete(void*, const UnaryResult& r) override {
      unary_status = r.grpc_status;
      unary_message = std::string(r.message);
    }
  };
  mem::ShardPool pool;
  StreamServerApp app;
  UnaryCatcher ch;
  testing::StreamPair<StreamServerApp, UnaryCatcher> p(&pool, &app, &ch);
  app.conn = &p.server;
  ch.conn = &p.client;
  int32_t s2 = p.client.start_stream("/test.Stream/Echo", "a", {}, 0, nullptr);
  ch.stream = s2;
  ASSERT_TRUE(p.client.send_data(s2, bytes_of(frame("x"))));
  ASSERT_GT(p.client.start_unary("/test.Unary/Echo", "a", {}, 0, "hello", nullptr), 0);
  p.pump();
  EXPECT_EQ(ch.unary_status, 0);
  EXPECT_EQ(ch.unary_message, "hello");
  ASSERT_EQ(ch.in.messages.size(), 1u);
  EXPECT_FALSE(ch.ended);
  ASSERT_TRUE(p.client.close_send(s2));
  p.pump();
  EXPECT_TRUE(ch.ended);
}

TEST(GrpcStream, TrailersOnlyWithStatusDetails) {
  Fixture f;
  int32_t id = f.start("/test.Stream/Fail");
  ASSERT_TRUE(f.p.client.close_send(id));
  f.p.pump();
  ASSERT_TRUE(f.ch.ended);
  EXPECT_EQ(f.ch.headers_seen, 0u);  // trailers-only: no headers callback
  EXPECT_EQ(f.ch.status, static_cast<int>(StatusCode::kFailedPrecondition));
  EXPECT_EQ(f.ch.message, "not ready: 100%");
  EXPECT_EQ(find(f.ch.trailers, "grpc-status-details-bin"), testing::kDetailsBin);
  EXPECT_EQ(find(f.ch.trailers, "x-why"), "because");
  EXPECT_EQ(find(f.ch.trailers, "grpc-status"), "<absent>");
  EXPECT_FALSE(f.ch.transport_error);
}

TEST(GrpcStream, StatusWithDetailsAfterData) {
  Fixture f;
  int32_t id = f.start("/test.Stream/Details");
  ASSERT_TRUE(f.p.client.close_send(id));
  f.p.pump();
  ASSERT_TRUE(f.ch.ended);
  EXPECT_EQ(f.ch.headers_seen, 1u);
  ASSERT_EQ(f.ch.in.messages.size(), 1u);
  EXPECT_EQ(f.ch.in.messages[0], "partial");
  EXPECT_EQ(f.ch.status, static_cast<int>(StatusCode::kInvalidArgument));
  EXPECT_EQ(f.ch.message, "bad argument here");
  EXPECT_EQ(find(f.ch.trailers, "grpc-status-details-bin"), testing::kDetailsBin);
}

TEST(GrpcStream, ClientCancelMidStreamReachesTheServer) {
  Fixture f;
  int32_t id = f.start("/test.Stream/Echo");
  ASSERT_TRUE(f.p.client.send_data(id, bytes_of(frame("one"))));
  f.p.pump();
  ASSERT_EQ(f.ch.in.messages.size(), 1u);
  ASSERT_EQ(f.app.calls.size(), 1u);
  CallId sid = f.app.calls.begin()->first;
  f.p.client.cancel(id);
  EXPECT_FALSE(f.p.client.send_data(id, bytes_of(frame("two"))));
  f.p.pump();
  ASSERT_EQ(f.app.cancelled.size(), 1u);
  EXPECT_EQ(f.app.cancelled[0], sid);
  EXPECT_FALSE(f.ch.ended);  // the caller cancelled: no callback
  EXPECT_FALSE(f.p.server.send_data(sid, bytes_of(frame("x"))));
  EXPECT_EQ(f.p.client.active_calls(), 0u);
  EXPECT_EQ(f.p.server.active_calls(), 0u);
}

TEST(GrpcStream, ServerCancelMidStreamReachesTheClient) {
  Fixture f;
  int32_t id = f.start("/test.Stream/Echo");
  ASSERT_TRUE(f.p.client.send_data(id, bytes_of(frame("one"))));
  f.p.pump();
  CallId sid = f.app.calls.begin()->first;
  f.p.server.cancel(sid);
  f.p.pump();
  ASSERT_TRUE(f.ch.ended);
  EXPECT_EQ(f.ch.status, static_cast<int>(StatusCode::kCancelled));
  EXPECT_FALSE(f.ch.transport_error);
  EXPECT_FALSE(f.ch.not_processed);
  EXPECT_TRUE(f.app.cancelled.empty());  // the server cancelled itself: no callback
  EXPECT_FALSE(f.p.client.send_data(id, bytes_of(frame("two"))));
}

TEST(GrpcStream, TransportLossEndsStreamsBothWays) {
  Fixture f;
  int32_t id = f.start("/test.Stream/Echo");
  ASSERT_TRUE(f.p.client.send_data(id, bytes_of(frame("one"))));
  f.p.pump();
  f.p.client.on_transport_closed();
  f.p.server.on_transport_closed();
  ASSERT_TRUE(f.ch.ended);
  EXPECT_EQ(f.ch.status, static_cast<int>(StatusCode::kUnavailable));
  EXPECT_TRUE(f.ch.transport_error);
  EXPECT_FALSE(f.ch.not_processed);
  EXPECT_EQ(f.app.cancelled.size(), 1u);
}

TEST(GrpcStream, TimeoutAndMetadataReachTheServer) {
  Fixture f;
  Metadata md[] = {{"x-a", "1"}, {"grpc-status-details-bin", "AAEC"}};
  int32_t id = f.p.client.start_stream("/test.Stream/Sink", "peer:1", md, 1'500'000'000, nullptr);
  f.ch.stream = id;
  ASSERT_TRUE(f.p.client.close_send(id));
  f.p.pump();
  ASSERT_EQ(f.app.calls.size(), 1u);
  const auto& call = f.app.calls.begin()->second;
  EXPECT_EQ(call.timeout_ns, 1'500'000'000);
  EXPECT_EQ(find(call.metadata, "x-a"), "1");
  EXPECT_EQ(find(call.metadata, "grpc-status-details-bin"), "AAEC");
  EXPECT_TRUE(f.ch.ended);
}

// A 64 MiB upload to a receiver that consumes 32 KiB per exchange: the sender's queue stays
// under the watermark bound, unconsumed bytes never exceed one stream window, and the pool
// (everything the connections and the pump used) stays within a few windows.
TEST(GrpcStream, SixtyFourMebibytesToASlowReceiverStaysBounded) {
  constexpr size_t kTotal = size_t{64} << 20;
  constexpr size_t kChunk = 16 << 10;  // one gRPC message per chunk
  constexpr size_t kWindow = 1 << 20;
  http2::SessionSettings settings;
  settings.initial_stream_window = kWindow;
  mem::ShardPool pool;
  size_t max_queued = 0;
  uint64_t max_unconsumed = 0;
  {
    StreamServerApp app;
    app.keep_messages = false;
    StreamClientHandler ch;
    Pair p(&pool, &app, &ch, settings);
    app.conn = &p.server;
    ch.conn = &p.client;
    int32_t id = p.client.start_stream("/test.Stream/Sink", "a", {}, 0, nullptr);
    ASSERT_GT(id, 0);
    std::string payload(kChunk - 5, 'p');
    std::string msg = frame(payload);
    size_t sent = 0;
    bool closed = false;
    for (int round = 0; round < 200000 && !ch.ended; ++round) {
      while (sent < kTotal && p.client.queued_bytes(id) < kStreamHighWatermark) {
        ASSERT_TRUE(p.client.send_data(id, bytes_of(msg)));
        sent += msg.size();
        max_queued = std::max(max_queued, p.client.queued_bytes(id));
      }
      if (sent >= kTotal && !closed) closed = p.client.close_send(id);
      p.step();
      max_unconsumed = std::max(max_unconsumed, app.sink_unconsumed);
      // Slow receiver: 32 KiB per exchange.
      size_t n = std::min<uint64_t>(app.sink_unconsumed, 32 << 10);
      CallId sid = app.calls.begin()->first;
      p.server.consume(sid, n);
      app.sink_unconsumed -= n;
    }
    ASSERT_TRUE(ch.ended);
    EXPECT_EQ(ch.status, 0);
    EXPECT_EQ(app.calls.begin()->second.received, sent);
    EXPECT_GE(sent, kTotal);
  }
  EXPECT_LE(max_queued, kStreamHighWatermark + kChunk);
  EXPECT_LE(max_unconsumed, kWindow);
  // Every block the pool ever handed out is back on its free lists: its total footprint.
  uint64_t footprint = pool.stats().bytes_cached;
  EXPECT_LT(footprint, 8 * kWindow) << "pool footprint " << footprint;
  std::printf("64 MiB slow receiver: max queued %zu, max unconsumed %llu, pool footprint %llu\n",
              max_queued, static_cast<unsigned long long>(max_unconsumed),
              static_cast<unsigned long long>(footprint));
}

}  // namespace
}  // namespace ringside::grpc
