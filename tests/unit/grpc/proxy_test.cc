// A pass-through proxy built from the streaming API, as the sidecar's transparent gRPC proxy
// uses it: caller → [GrpcServerConnection ⇄ GrpcClientConnection] → backend, frames forwarded
// as bytes. Back-pressure must hold across the hop: received bytes are consume()d only once the
// other side's queue has room (or on_stream_writable says it drained).
#include <gtest/gtest.h>

#include <map>
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

struct Proxy : ServerHandler, ClientHandler {
  struct Leg {
    CallId in_id = 0;          // call on the caller-facing server connection
    int32_t out_id = 0;        // stream on the backend-facing client connection
    size_t in_pending = 0;     // caller bytes forwarded but not yet consume()d
    size_t out_pending = 0;    // backend bytes forwarded but not yet consume()d
  };
  GrpcServerConnection* in = nullptr;
  GrpcClientConnection* out = nullptr;
  std::map<CallId, Leg> legs;  // stable addresses: Leg* is the client-side user cookie
  size_t max_out_queue = 0;    // largest backend-bound queue
  size_t max_in_queue = 0;     // largest caller-bound queue

  // Server side (caller → proxy)
  CallMode classify(std::string_view, std::span<const Metadata>) override {
    return CallMode::kStream;
  }
  void on_unary_request(const UnaryRequest&) override { ADD_FAILURE() << "unary"; }
  void on_stream_start(const StreamStart& s) override {
    Leg& leg = legs[s.id];
    leg.in_id = s.id;
    leg.out_id = out->start_stream(s.path, s.authority, s.metadata, s.timeout_ns, &leg);
    if (leg.out_id == 0) in->send_trailers(s.id, 14, "backend unavailable", {});
  }
  void on_stream_data(CallId id, std::span<const uint8_t> b) override {
    Leg& leg = legs[id];
    EXPECT_TRUE(out->send_data(leg.out_id, b));
    max_out_queue = std::max(max_out_queue, out->queued_bytes(leg.out_id));
    leg.in_pending += b.size();
    if (out->queued_bytes(leg.out_id) < kStreamHighWatermark) release_in(leg);
  }
  void on_stream_half_close(CallId id) override { out->close_send(legs[id].out_id); }
  void on_stream_writable(CallId id) override { release_out(legs[id]); }
  void on_call_cancelled(CallId id) override { out->cancel(legs[id].out_id); }

  // Client side (proxy → backend)
  void on_unary_complete(void*, const UnaryResult&) override { ADD_FAILURE() << "unary"; }
  void on_stream_headers(void* user, std::span<const Metadata> h) override {
    in->send_headers(static_cast<Leg*>(user)->in_id, h);
  }
  void on_stream_data(void* user, std::span<const uint8_t> b) override {
    Leg& leg = *static_cast<Leg*>(user);
    EXPECT_TRUE(in->send_data(leg.in_id, b));
    max_in_queue = std::max(max_in_queue, in->queued_bytes(leg.in_id));
    leg.out_pending += b.size();
    if (in->queued_bytes(leg.in_id) < kStreamHighWatermark) release_out(leg);
  }
  void on_stream_writable(void* user) override { release_in(*static_cast<Leg*>(user)); }
  void on_stream_end(void* user, int status, std::string_view msg, std::span<const Metadata> t,
                     bool, bool) override {
    Leg& leg = *static_cast<Leg*>(user);
    if (status == static_cast<int>(StatusCode::kCancelled)) {
      in->cancel(leg.in_id);
    } else {
      in->send_trailers(leg.in_id, status, msg, t);
    }
  }

  void release_in(Leg& leg) {
    in->consume(leg.in_id, leg.in_pending);
    leg.in_pending = 0;
  }
  void release_out(Leg& leg) {
    out->consume(leg.out_id, leg.out_pending);
    leg.out_pending = 0;
  }
};

constexpr size_t kWindow = 1 << 20;

struct Chain {
  Chain()
      : settings(make_settings()),
        a2p(&pool_p), p2a(&pool_p), p2b(&pool_p), b2p(&pool_p),
        caller(&pool_a, &ch, 4u << 20, settings),
        proxy_in(&pool_p, &proxy, 4u << 20, settings),
        proxy_out(&pool_p, &proxy, 4u << 20, settings),
        backend(&pool_b, &app, 4u << 20, settings) {
    ch.conn = &caller;
    proxy.in = &proxy_in;
    proxy.out = &proxy_out;
    app.conn = &backend;
    EXPECT_TRUE(caller.start() && proxy_in.start() && proxy_out.start() && backend.start());
  }
  static http2::SessionSettings make_settings() {
    http2::SessionSettings s;
    s.initial_stream_window = kWindow;
    return s;
  }
  template <typename From, typename To>
  static bool move(From& from, mem::Buffer& buf, To& to) {
    from.flush_to(&buf);
    bool moved = !buf.empty();
    if (moved) to.feed(buf.data(), buf.size());
    buf.clear();
    return moved;
  }
  bool step() {
    bool m = move(caller, a2p, proxy_in);
    m = move(proxy_in, p2a, caller) || m;
    m = move(proxy_out, p2b, backend) || m;
    m = move(backend, b2p, proxy_out) || m;
    return m;
  }
  void pump() {
    for (int i = 0; i < 100000; ++i) {
      if (!step()) return;
    }
    ADD_FAILURE() << "pump did not settle";
  }
  int32_t start(std::string_view path, std::span<const Metadata> md = {}) {
    ch.stream = caller.start_stream(path, "backend", md, 0, nullptr);
    return ch.stream;
  }

  http2::SessionSettings settings;
  mem::ShardPool pool_a, pool_p, pool_b;  // caller, proxy, backend memory
  mem::Buffer a2p, p2a, p2b, b2p;
  StreamClientHandler ch;
  Proxy proxy;
  StreamServerApp app;
  GrpcClientConnection caller;
  GrpcServerConnection proxy_in;
  GrpcClientConnection proxy_out;
  GrpcServerConnection backend;
};

TEST(GrpcProxy, BidiEchoTenThousandMessagesWithMetadataAndTrailers) {
  Chain c;
  Metadata md[] = {{"dapr-app-id", "orders"}};
  int32_t id = c.start("/test.Stream/Echo", md);
  ASSERT_GT(id, 0);
  constexpr int kN = 10000;
  int i = 0;
  for (int round = 0; round < 100000 && i < kN; ++round) {
    while (i < kN && c.caller.queued_bytes(id) < kStreamHighWatermark) {
      ASSERT_TRUE(c.caller.send_data(id, bytes_of(frame("m" + std::to_string(i++)))));
    }
    c.step();
  }
  ASSERT_TRUE(c.caller.close_send(id));
  c.pump();
  ASSERT_TRUE(c.ch.ended);
  EXPECT_EQ(c.ch.status, 0) << c.ch.message;
  EXPECT_EQ(find(c.ch.headers, "x-reply-header"), "h1");
  EXPECT_EQ(find(c.ch.trailers, "x-reply-trailer"), "t1");
  EXPECT_EQ(find(c.app.calls.begin()->second.metadata, "dapr-app-id"), "orders");
  ASSERT_EQ(c.ch.in.messages.size(), static_cast<size_t>(kN));
  for (int k = 0; k < kN; ++k) ASSERT_EQ(c.ch.in.messages[k], "m" + std::to_string(k));
  EXPECT_EQ(c.proxy_in.active_calls(), 0u);
  EXPECT_EQ(c.proxy_out.active_calls(), 0u);
}

TEST(GrpcProxy, TrailersOnlyStatusAndDetailsPassThrough) {
  Chain c;
  int32_t id = c.start("/test.Stream/Fail");
  ASSERT_TRUE(c.caller.close_send(id));
  c.pump();
  ASSERT_TRUE(c.ch.ended);
  EXPECT_EQ(c.ch.headers_seen, 0u);
  EXPECT_EQ(c.ch.status, static_cast<int>(StatusCode::kFailedPrecondition));
  EXPECT_EQ(c.ch.message, "not ready: 100%");
  EXPECT_EQ(find(c.ch.trailers, "grpc-status-details-bin"), testing::kDetailsBin);
}

TEST(GrpcProxy, CancelCrossesTheHopBothWays) {
  {
    Chain c;  // caller cancels: the backend app sees it
    int32_t id = c.start("/test.Stream/Echo");
    ASSERT_TRUE(c.caller.send_data(id, bytes_of(frame("x"))));
    c.pump();
    ASSERT_EQ(c.ch.in.messages.size(), 1u);
    c.caller.cancel(id);
    c.pump();
    EXPECT_EQ(c.app.cancelled.size(), 1u);
    EXPECT_FALSE(c.ch.ended);
  }
  {
    Chain c;  // backend cancels: the caller sees CANCELLED
    int32_t id = c.start("/test.Stream/Echo");
    ASSERT_TRUE(c.caller.send_data(id, bytes_of(frame("x"))));
    c.pump();
    c.backend.cancel(c.app.calls.begin()->first);
    c.pump();
    ASSERT_TRUE(c.ch.ended);
    EXPECT_EQ(c.ch.status, static_cast<int>(StatusCode::kCancelled));
  }
}

// 32 MiB to a backend that consumes 32 KiB per exchange: the caller is throttled through the
// proxy, and the proxy's memory stays within a few windows although it relays everything.
TEST(GrpcProxy, SlowBackendBackPressuresTheCallerThroughTheHop) {
  constexpr size_t kTotal = size_t{32} << 20;
  constexpr size_t kChunk = 16 << 10;
  size_t caller_max_queue = 0, proxy_max_queue = 0;
  uint64_t backend_max_unconsumed = 0;
  size_t sent = 0;
  auto c = std::make_unique<Chain>();
  c->app.keep_messages = false;
  int32_t id = c->start("/test.Stream/Sink");
  std::string msg = frame(std::string(kChunk - 5, 'p'));
  bool closed = false;
  for (int round = 0; round < 400000 && !c->ch.ended; ++round) {
    while (sent < kTotal && c->caller.queued_bytes(id) < kStreamHighWatermark) {
      ASSERT_TRUE(c->caller.send_data(id, bytes_of(msg)));
      sent += msg.size();
      caller_max_queue = std::max(caller_max_queue, c->caller.queued_bytes(id));
    }
    if (sent >= kTotal && !closed) closed = c->caller.close_send(id);
    c->step();
    backend_max_unconsumed = std::max(backend_max_unconsumed, c->app.sink_unconsumed);
    if (!c->app.calls.empty()) {
      size_t n = std::min<uint64_t>(c->app.sink_unconsumed, 32 << 10);
      c->backend.consume(c->app.calls.begin()->first, n);
      c->app.sink_unconsumed -= n;
    }
  }
  ASSERT_TRUE(c->ch.ended);
  EXPECT_EQ(c->ch.status, 0);
  EXPECT_EQ(c->app.calls.begin()->second.received, sent);
  proxy_max_queue = c->proxy.max_out_queue;
  // Tear down the connections but keep the pools: every block is back on a free list.
  uint64_t proxy_footprint = 0;
  {
    Chain* raw = c.get();
    raw->caller.on_transport_closed();
    raw->proxy_in.on_transport_closed();
    raw->proxy_out.on_transport_closed();
    raw->backend.on_transport_closed();
    raw->a2p.release();
    raw->p2a.release();
    raw->p2b.release();
    raw->b2p.release();
    proxy_footprint = raw->pool_p.stats().bytes_cached;
  }
  EXPECT_LE(caller_max_queue, kStreamHighWatermark + kChunk);
  // The proxy holds at most one window it has not consumed plus one high watermark.
  EXPECT_LE(proxy_max_queue, kWindow + kStreamHighWatermark);
  EXPECT_LE(backend_max_unconsumed, kWindow);
  EXPECT_LT(proxy_footprint, 8 * kWindow) << proxy_footprint;
  std::printf("proxy 32 MiB: caller max queue %zu, proxy max queue %zu, proxy pool %llu\n",
              caller_max_queue, proxy_max_queue,
              static_cast<unsigned long long>(proxy_footprint));
}

}  // namespace
}  // namespace ringside::grpc
