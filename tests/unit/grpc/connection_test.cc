// GrpcClientConnection and GrpcServerConnection wired together in memory.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <string>
#include <vector>

#include "dataplane/grpc/status.h"
#include "tests/unit/grpc/pair_harness.h"

namespace ringside::grpc {
namespace {

using testing::find;
using testing::Pair;

constexpr int kOk = 0;

void* user(uintptr_t u) { return reinterpret_cast<void*>(u); }

TEST(GrpcPair, UnaryOkCarriesPathAuthorityMetadataTimeoutAndMessage) {
  Pair p;
  Metadata md[] = {{"dapr-app-id", "orders"}, {"user-agent", "ringside-test"},
                   {"content-type", "text/plain"} /* reserved: not sent twice */};
  int32_t id = p.client.start_unary("/test.Svc/Echo", "peer:50002", md, 2'000'000'000,
                                    "ping", user(7));
  ASSERT_GT(id, 0);
  EXPECT_EQ(p.client.active_calls(), 1u);
  p.pump();

  ASSERT_EQ(p.sh.requests.size(), 1u);
  const auto& req = p.sh.requests[0];
  EXPECT_EQ(req.path, "/test.Svc/Echo");
  EXPECT_EQ(req.authority, "peer:50002");
  EXPECT_EQ(req.message, "ping");
  EXPECT_EQ(req.timeout_ns, 2'000'000'000);
  EXPECT_EQ(find(req.metadata, "dapr-app-id"), "orders");
  EXPECT_EQ(find(req.metadata, "user-agent"), "ringside-test");
  EXPECT_EQ(find(req.metadata, "te"), "<absent>");
  EXPECT_EQ(find(req.metadata, "content-type"), "<absent>");
  EXPECT_EQ(find(req.metadata, "grpc-timeout"), "<absent>");

  ASSERT_EQ(p.ch.done.size(), 1u);
  const auto& r = p.ch.done[0];
  EXPECT_EQ(r.user, 7u);
  EXPECT_EQ(r.grpc_status, kOk);
  EXPECT_EQ(r.message, "ping");
  EXPECT_EQ(r.grpc_message, "");
  EXPECT_EQ(find(r.headers, "x-reply-header"), "h1");
  EXPECT_EQ(find(r.trailers, "x-reply-trailer"), "t1");
  EXPECT_EQ(find(r.trailers, "grpc-status"), "<absent>");
  EXPECT_FALSE(r.not_processed);
  EXPECT_FALSE(r.transport_error);
  EXPECT_EQ(p.client.active_calls(), 0u);
  EXPECT_EQ(p.server.active_calls(), 0u);
  EXPECT_FALSE(p.client.wants_close());
  EXPECT_FALSE(p.server.wants_close());
}

TEST(GrpcPair, NoTimeoutMeansZero) {
  Pair p;
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "x", nullptr);
  p.pump();
  ASSERT_EQ(p.sh.requests.size(), 1u);
  EXPECT_EQ(p.sh.requests[0].timeout_ns, 0);
}

TEST(GrpcPair, ErrorWithHeadersSendsHeadersThenTrailersWithPercentEncodedMessage) {
  Pair p;
  std::string text = "no such order: 100% sure\n\xc3\xa9";
  p.sh.error_text = text;
  Metadata md[] = {{"x-status", "5"}};
  p.client.start_unary("/test.Svc/Echo", "a", md, 0, "ping", user(1));
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 1u);
  const auto& r = p.ch.done[0];
  EXPECT_EQ(r.grpc_status, static_cast<int>(StatusCode::kNotFound));
  EXPECT_EQ(r.grpc_message, text);
  EXPECT_EQ(r.message, "");
  // Headers the handler gave stay initial metadata (daprd sends e.g. dapr-http-status there
  // on errors too); status and the handler's trailers follow as trailers, with no message.
  EXPECT_EQ(find(r.headers, "x-reply-header"), "h1");
  EXPECT_EQ(find(r.trailers, "x-reply-trailer"), "t1");
}

TEST(GrpcPair, ErrorWithMessageAndLaterResponse) {
  Pair p;
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "q", user(1));
  p.pump();
  ASSERT_EQ(p.sh.held.size(), 1u);
  EXPECT_TRUE(p.ch.done.empty());
  Metadata trailers[] = {{"x-t", "v"}};
  ASSERT_TRUE(p.server.respond(p.sh.held[0], {}, "detail", 3, "bad arg", trailers));
  EXPECT_FALSE(p.server.respond(p.sh.held[0], {}, "again", 0, "", {}));  // answered once only
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].grpc_status, 3);
  EXPECT_EQ(p.ch.done[0].grpc_message, "bad arg");
  EXPECT_EQ(p.ch.done[0].message, "detail");
  EXPECT_EQ(find(p.ch.done[0].trailers, "x-t"), "v");
}

TEST(GrpcPair, StaleAndForeignCallIdsAreIgnored) {
  Pair p;
  EXPECT_FALSE(p.server.respond(12345, {}, "", 0, "", {}));
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "x", nullptr);
  p.pump();
  ASSERT_EQ(p.sh.requests.size(), 1u);
  EXPECT_FALSE(p.server.respond(p.sh.requests[0].id, {}, "", 0, "", {}));  // already answered
}

class GrpcPairLarge : public ::testing::TestWithParam<size_t> {};

TEST_P(GrpcPairLarge, EchoesLargeMessages) {
  Pair p;
  std::string msg(GetParam(), '\0');
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<char>(i * 131 + 7);
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, msg, user(1));
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].grpc_status, kOk) << p.ch.done[0].grpc_message;
  EXPECT_TRUE(p.ch.done[0].message == msg);
}

INSTANTIATE_TEST_SUITE_P(Sizes, GrpcPairLarge,
                         ::testing::Values(size_t{0}, size_t{1} << 20, size_t{4} << 20));

TEST(GrpcPair, TwoHundredConcurrentCalls) {
  Pair p;
  p.pump();  // SETTINGS exchanged: before them nghttp2 assumes the peer allows 100 streams
  std::vector<std::string> msgs;
  for (int i = 0; i < 200; ++i) msgs.push_back("message-" + std::to_string(i));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(p.client.can_start_call());
    ASSERT_GT(p.client.start_unary("/test.Svc/Echo", "a", {}, 0, msgs[i], user(i + 1)), 0);
  }
  EXPECT_EQ(p.client.active_calls(), 200u);
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    const auto* d = p.ch.find_user(i + 1);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->grpc_status, kOk);
    EXPECT_EQ(d->message, msgs[i]);
  }
  EXPECT_EQ(p.client.active_calls(), 0u);
}

TEST(GrpcPair, CancelResetsTheServerCallAndNeverCompletes) {
  Pair p;
  int32_t id = p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "x", user(1));
  p.pump();
  ASSERT_EQ(p.sh.held.size(), 1u);
  EXPECT_EQ(p.server.active_calls(), 1u);
  p.client.cancel(id);
  EXPECT_EQ(p.client.active_calls(), 0u);
  p.pump();
  ASSERT_EQ(p.sh.cancelled.size(), 1u);
  EXPECT_EQ(p.sh.cancelled[0], p.sh.held[0]);
  EXPECT_FALSE(p.server.respond(p.sh.held[0], {}, "late", 0, "", {}));
  EXPECT_EQ(p.server.active_calls(), 0u);
  p.pump();
  EXPECT_TRUE(p.ch.done.empty());
}

TEST(GrpcPair, CancelBeforeSendingNeverReachesServer) {
  Pair p;
  int32_t id = p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "x", user(1));
  p.client.cancel(id);
  p.pump();
  EXPECT_TRUE(p.sh.requests.empty());
  EXPECT_TRUE(p.ch.done.empty());
  // The connection still works.
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "y", user(2));
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].message, "y");
}

// The client's side of a GOAWAY: calls above its last-stream-id were not processed (they may be
// retried anywhere), and no new call starts on the connection.
TEST(GrpcPair, GoawayRefusesCallsAboveLastStreamId) {
  Pair p;
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "first", user(1));
  p.pump();
  ASSERT_EQ(p.sh.held.size(), 1u);

  // Two more calls leave the client but have not reached the server when a final GOAWAY naming
  // stream 1 arrives (as a server sends it without the two-step shutdown).
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "second", user(2));
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "third", user(3));
  ASSERT_TRUE(p.client.flush_to(&p.c2s));
  p.c2s.clear();  // never delivered
  const uint8_t goaway[] = {0, 0, 8, 0x7, 0, 0, 0, 0, 0,  // GOAWAY, 8 bytes, stream 0
                            0, 0, 0, 1,                   // last stream id 1
                            0, 0, 0, 0};                  // NO_ERROR
  p.client.feed(goaway, sizeof goaway);
  EXPECT_FALSE(p.client.can_start_call());
  EXPECT_EQ(p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "fourth", user(4)), 0);

  ASSERT_EQ(p.ch.done.size(), 2u);
  for (uintptr_t u : {2u, 3u}) {
    const auto* d = p.ch.find_user(u);
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->not_processed);
    EXPECT_FALSE(d->transport_error);
    EXPECT_EQ(d->grpc_status, static_cast<int>(StatusCode::kUnavailable));
  }
  // The call below the last stream id still completes.
  ASSERT_TRUE(p.server.respond(p.sh.held[0], {}, "done", 0, "", {}));
  p.pump();
  const auto* first = p.ch.find_user(1);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->grpc_status, kOk);
  EXPECT_EQ(first->message, "done");
}

// Our server's graceful shutdown (issue 10) is two-step: a GOAWAY notice and a PING first, the
// final GOAWAY once the PING is acknowledged. Calls that crossed the notice on the wire are
// served, not refused; the client opens nothing new; both sides close when the last call ends.
TEST(GrpcPair, ShutdownServesCallsCrossingTheNoticeThenBothSidesClose) {
  Pair p;
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "first", user(1));
  p.pump();
  ASSERT_EQ(p.sh.held.size(), 1u);

  // Two more calls leave the client but have not reached the server when it shuts down.
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "second", user(2));
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "third", user(3));
  ASSERT_TRUE(p.client.flush_to(&p.c2s));
  mem::Buffer in_flight(&p.pool);
  in_flight.append(p.c2s.data(), p.c2s.size());
  p.c2s.clear();

  p.server.shutdown();
  ASSERT_TRUE(p.server.flush_to(&p.s2c));
  p.client.feed(p.s2c.data(), p.s2c.size());
  p.s2c.clear();
  EXPECT_FALSE(p.client.can_start_call()) << "a GOAWAY notice still forbids new streams";
  EXPECT_EQ(p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "fourth", user(4)), 0);
  EXPECT_EQ(p.ch.done.size(), 0u) << "the notice refuses nothing";

  // The calls in flight arrive before the client's PING ACK (TCP keeps the order): served.
  p.server.feed(in_flight.data(), in_flight.size());
  p.pump();
  EXPECT_EQ(p.sh.requests.size(), 3u);
  for (uintptr_t u : {2u, 3u}) {
    const auto* d = p.ch.find_user(u);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->grpc_status, kOk);
    EXPECT_FALSE(d->not_processed);
  }
  // The held call still completes, then both sides want to close.
  ASSERT_TRUE(p.server.respond(p.sh.held[0], {}, "done", 0, "", {}));
  p.pump();
  const auto* first = p.ch.find_user(1);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->grpc_status, kOk);
  EXPECT_EQ(first->message, "done");
  EXPECT_TRUE(p.server.wants_close());
  EXPECT_TRUE(p.client.wants_close());
}

TEST(GrpcPair, CallsBeyondThePeersStreamLimitWaitForAStreamInsteadOfBeingRefused) {
  http2::SessionSettings one_stream;
  one_stream.max_concurrent_streams = 1;
  Pair p(4u << 20, one_stream);
  // Both are submitted before the server's SETTINGS reach the client: until then the client
  // opens one stream at a time, so the second waits instead of being refused.
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "a", user(1));
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "b", user(2));
  p.pump();
  EXPECT_TRUE(p.client.settings_received());
  EXPECT_EQ(p.client.peer_max_streams(), 1u);
  EXPECT_EQ(p.sh.held.size(), 1u);
  EXPECT_TRUE(p.ch.done.empty());
  EXPECT_FALSE(p.client.can_start_call());  // peer allows one stream and it is taken
  EXPECT_TRUE(p.client.accepts_calls());    // but a call may still be queued
  // The first ends: the second starts on the freed stream.
  ASSERT_TRUE(p.server.respond(p.sh.held[0], {}, "a", 0, "", {}));
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].user, 1u);
  ASSERT_EQ(p.sh.held.size(), 2u);
  ASSERT_TRUE(p.server.respond(p.sh.held[1], {}, "b", 0, "", {}));
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 2u);
  EXPECT_EQ(p.ch.done[1].user, 2u);
  EXPECT_EQ(p.ch.done[1].grpc_status, kOk);
}

TEST(GrpcPair, TheClientLearnsTheShardCountARingsideServerAdvertises) {
  // One call, so that the server's SETTINGS have reached the client.
  auto call_once = [](Pair& p) {
    p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "x", user(1));
    p.pump();
    ASSERT_TRUE(p.client.settings_received());
  };
  http2::SessionSettings three_shards;
  three_shards.advertised_shards = 3;
  Pair p(4u << 20, three_shards);
  call_once(p);
  EXPECT_EQ(p.client.peer_shards(), 3u);
  // The setting changes nothing else: the call is served, the stream limit is the usual one.
  EXPECT_EQ(p.client.peer_max_streams(), three_shards.max_concurrent_streams);
  EXPECT_EQ(p.sh.requests.size() + p.sh.held.size(), 1u);

  Pair plain;  // a server without it (daprd, a gRPC app): 0
  call_once(plain);
  EXPECT_EQ(plain.client.peer_shards(), 0u);
}

TEST(GrpcPair, ExpiredDeadlineCancelsTheStreamAndAnswersDeadlineExceeded) {
  Pair p;
  int32_t id = p.client.start_unary("/test.Svc/Hold", "a", {}, 1'000'000, "slow", user(1),
                                    /*deadline_ns=*/5000);
  ASSERT_GT(id, 0);
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "no deadline", user(2));
  p.pump();
  ASSERT_EQ(p.sh.held.size(), 2u);
  size_t expired = 99;
  EXPECT_EQ(p.client.expire_calls(4999, &expired), 5000);  // not yet; the next deadline
  EXPECT_EQ(expired, 0u);
  EXPECT_EQ(p.client.expire_calls(5000, &expired), 0);     // no deadline left
  EXPECT_EQ(expired, 1u);
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].user, 1u);
  EXPECT_EQ(p.ch.done[0].grpc_status, static_cast<int>(StatusCode::kDeadlineExceeded));
  EXPECT_EQ(p.ch.done[0].grpc_message, "context deadline exceeded");
  EXPECT_FALSE(p.ch.done[0].not_processed);
  EXPECT_FALSE(p.ch.done[0].transport_error);
  p.pump();
  // The server saw RST_STREAM: its call was cancelled (what lets the callee stop the app call).
  ASSERT_EQ(p.sh.cancelled.size(), 1u);
  EXPECT_EQ(p.sh.cancelled[0], p.sh.held[0]);
  EXPECT_EQ(p.client.active_calls(), 1u);
}

TEST(GrpcPair, DeadlineOfACallStillWaitingForAStreamDropsItUnsent) {
  http2::SessionSettings one_stream;
  one_stream.max_concurrent_streams = 1;
  Pair p(4u << 20, one_stream);
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "a", user(1));
  p.pump();
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "b", user(2), /*deadline_ns=*/10);
  p.pump();
  ASSERT_EQ(p.sh.held.size(), 1u);
  p.client.expire_calls(10);
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].user, 2u);
  EXPECT_EQ(p.ch.done[0].grpc_status, static_cast<int>(StatusCode::kDeadlineExceeded));
  EXPECT_EQ(p.sh.requests.size(), 1u);  // "b" never reached the server
  // The held call ends normally afterwards, and nothing else is started.
  ASSERT_TRUE(p.server.respond(p.sh.held[0], {}, "a", 0, "", {}));
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 2u);
  EXPECT_EQ(p.sh.requests.size(), 1u);
  EXPECT_EQ(p.client.active_calls(), 0u);
}

TEST(GrpcPair, PingIsAnsweredAndCountsAsAReceivedFrame) {
  Pair p;
  p.pump();
  uint64_t before = p.client.frames_received();
  ASSERT_TRUE(p.client.send_ping());
  p.pump();
  EXPECT_GT(p.client.frames_received(), before);  // the ACK
  // A silent peer: the PING goes out, nothing comes back.
  before = p.client.frames_received();
  ASSERT_TRUE(p.client.send_ping());
  mem::Buffer out(&p.pool);
  ASSERT_TRUE(p.client.flush_to(&out));
  EXPECT_GT(out.size(), 0u);
  EXPECT_EQ(p.client.frames_received(), before);
}

TEST(GrpcPair, TransportClosedCarriesTheGivenReason) {
  Pair p;
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "sent", user(1));
  p.pump();
  p.client.on_transport_closed("keepalive ping failed");
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].grpc_status, static_cast<int>(StatusCode::kUnavailable));
  EXPECT_EQ(p.ch.done[0].grpc_message, "keepalive ping failed");
  EXPECT_TRUE(p.ch.done[0].transport_error);
  EXPECT_FALSE(p.ch.done[0].not_processed);
  p.server.on_transport_closed();
}

TEST(GrpcPair, TransportClosedMidCallIsTransportErrorNotUnprocessed) {
  Pair p;
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "sent", user(1));
  p.pump();
  ASSERT_EQ(p.sh.held.size(), 1u);
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "never sent", user(2));
  p.client.on_transport_closed();
  p.server.on_transport_closed();

  ASSERT_EQ(p.ch.done.size(), 2u);
  const auto* sent = p.ch.find_user(1);
  const auto* unsent = p.ch.find_user(2);
  ASSERT_TRUE(sent && unsent);
  EXPECT_TRUE(sent->transport_error);
  EXPECT_FALSE(sent->not_processed);
  EXPECT_EQ(sent->grpc_status, static_cast<int>(StatusCode::kUnavailable));
  EXPECT_TRUE(unsent->transport_error);
  EXPECT_TRUE(unsent->not_processed);
  ASSERT_EQ(p.sh.cancelled.size(), 1u);
  EXPECT_EQ(p.sh.cancelled[0], p.sh.held[0]);
  EXPECT_EQ(p.client.active_calls(), 0u);
  EXPECT_TRUE(p.client.wants_close());
  EXPECT_EQ(p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "x", user(3)), 0);
}

TEST(GrpcPair, OversizeRequestIsResourceExhausted) {
  Pair p(1024);
  std::string big(2000, 'x');
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, big, user(1));
  p.pump();
  EXPECT_TRUE(p.sh.requests.empty());
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].grpc_status, static_cast<int>(StatusCode::kResourceExhausted));
  EXPECT_FALSE(p.ch.done[0].not_processed);
  // The connection survives.
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "small", user(2));
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 2u);
  EXPECT_EQ(p.ch.done[1].grpc_status, kOk);
}

TEST(GrpcPair, OversizeResponseIsResourceExhaustedAtClient) {
  Pair p(4u << 20, {}, 100);
  std::string body(1000, 'r');  // must outlive the call
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, body, user(1));
  p.pump();
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_EQ(p.ch.done[0].grpc_status, static_cast<int>(StatusCode::kResourceExhausted));
  EXPECT_EQ(p.client.active_calls(), 0u);
  EXPECT_EQ(p.server.active_calls(), 0u);
}

TEST(GrpcPair, GarbageBytesCloseTheServerConnection) {
  Pair p;
  std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_FALSE(p.server.feed(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()));
  EXPECT_TRUE(p.server.wants_close());
  mem::Buffer out(&p.pool);
  p.server.flush_to(&out);  // best-effort GOAWAY; must not crash
}

TEST(GrpcPair, GarbageFramesCloseTheClientConnection) {
  Pair p;
  p.pump();
  p.client.start_unary("/test.Svc/Hold", "a", {}, 0, "x", user(1));
  p.pump();
  // A DATA frame on stream 0 is a connection error.
  const uint8_t bad[] = {0, 0, 4, 0x0, 0x0, 0, 0, 0, 0, 1, 2, 3, 4};
  bool ok = p.client.feed(bad, sizeof bad);
  mem::Buffer out(&p.pool);
  p.client.flush_to(&out);  // GOAWAY(PROTOCOL_ERROR)
  EXPECT_TRUE(!ok || p.client.wants_close());
  EXPECT_TRUE(p.client.wants_close());
  p.client.on_transport_closed();
  ASSERT_EQ(p.ch.done.size(), 1u);
  EXPECT_TRUE(p.ch.done[0].transport_error);
}

TEST(GrpcPair, PoolAccountingZeroGlobalAllocationsAfterWarmup) {
  Pair p;
  p.sh.allocate_nothing = true;
  p.ch.allocate_nothing = true;
  std::string msg(3000, 'm');
  Metadata md[] = {{"dapr-app-id", "orders"}, {"traceparent", "00-abc-def-01"}};
  auto run = [&](int n) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < 8; ++j) p.client.start_unary("/test.Svc/Echo", "a", md, 1000000, msg, nullptr);
      p.pump();
    }
  };
  run(400);  // past one connection-window cycle (>8 MiB): WINDOW_UPDATE has been warmed
  uint64_t before = p.pool.stats().global_allocs;
  size_t done_before = p.ch.count;
  run(500);
  EXPECT_EQ(p.ch.count - done_before, 4000u);
  EXPECT_EQ(p.ch.last_status, kOk);
  EXPECT_EQ(p.pool.stats().global_allocs, before);
}

}  // namespace
}  // namespace ringside::grpc
