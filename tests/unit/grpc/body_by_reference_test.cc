// Issue 11: unary messages whose body is sent from where it already is, not copied at start.
//  - client: start_unary(message, tail) reads the tail from its owner's buffer as the window
//    allows, even after that buffer grew into a new block mid-call (the ingress input buffer
//    keeps receiving pipelined bytes while a request's body goes out);
//  - server: respond(..., AdoptedBody) takes the owner's buffer over and sends the body from it,
//    returning the block to the pool once it is out.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "dataplane/mem/buffer_slice.h"
#include "tests/unit/grpc/pair_harness.h"

namespace ringside::grpc {
namespace {

using testing::Pair;

std::string pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + seed);
  return s;
}

// One round of the pair's traffic: client out, server in and out, client in.
void one_round(Pair& p) {
  EXPECT_TRUE(p.client.flush_to(&p.c2s, size_t{64} << 10));  // part of the body only
  if (!p.c2s.empty()) {
    EXPECT_TRUE(p.server.feed(p.c2s.data(), p.c2s.size()));
    p.c2s.clear();
  }
  EXPECT_TRUE(p.server.flush_to(&p.s2c));
  if (!p.s2c.empty()) {
    EXPECT_TRUE(p.client.feed(p.s2c.data(), p.s2c.size()));
    p.s2c.clear();
  }
}

TEST(BodyByReference, TheClientSendsMessageThenTailAsOneMessage) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{16384}, size_t{1} << 20}) {
    Pair p;
    mem::Buffer owner(&p.pool);
    const std::string body = pattern(size, 7);
    ASSERT_TRUE(owner.append("HTTP head bytes ") && owner.append(body));
    const mem::BufferSlice tail = mem::BufferSlice::of(owner, owner.view().substr(16));
    p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "encoded-head:", nullptr, 0, tail);
    p.pump();
    ASSERT_EQ(p.sh.requests.size(), 1u) << size;
    EXPECT_TRUE(p.sh.requests[0].message == "encoded-head:" + body) << size;
    ASSERT_EQ(p.ch.done.size(), 1u);
    EXPECT_EQ(p.ch.done[0].grpc_status, 0);
  }
}

TEST(BodyByReference, TheTailIsReadWhereItIsNotCopiedAtStart) {
  Pair p;
  mem::Buffer owner(&p.pool);
  ASSERT_TRUE(owner.append("before"));
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "h:", nullptr, 0,
                       mem::BufferSlice::of(owner, owner.view()));
  // Bytes changed after start and before the DATA left are the ones sent: nothing was copied.
  std::memcpy(owner.data(), "AFTER!", 6);
  p.pump();
  ASSERT_EQ(p.sh.requests.size(), 1u);
  EXPECT_EQ(p.sh.requests[0].message, "h:AFTER!");
}

TEST(BodyByReference, TheTailFollowsItsBufferIntoANewBlockMidCall) {
  Pair p;
  p.pump();  // SETTINGS first, so the call's DATA is bounded by the 64 KiB stream window
  mem::Buffer owner(&p.pool);
  const std::string body = pattern(size_t{1} << 20, 3);
  ASSERT_TRUE(owner.append(body));
  p.client.start_unary("/test.Svc/Echo", "a", {}, 0, "h:", nullptr, 0,
                       mem::BufferSlice::of(owner, owner.view()));
  one_round(p);
  ASSERT_TRUE(p.sh.requests.empty()) << "the whole body left in one round: the test proves nothing";
  // Pipelined bytes arrive behind the body: the buffer outgrows its block and moves.
  const uint8_t* before = owner.data();
  const size_t old_capacity = owner.capacity();
  const std::string more = pattern(old_capacity, 9);
  ASSERT_TRUE(owner.append(more));
  ASSERT_NE(owner.data(), before);
  // The old block is free: whoever gets it next overwrites it, so a reader still holding a
  // pointer into it would send junk.
  void* reused = p.pool.allocate(old_capacity);
  ASSERT_EQ(reused, static_cast<const void*>(before)) << "the pool hands the freed block out next";
  std::memset(reused, 0xAA, old_capacity);
  p.pump();
  p.pool.deallocate(reused);
  ASSERT_EQ(p.sh.requests.size(), 1u);
  EXPECT_TRUE(p.sh.requests[0].message == "h:" + body);
}

// Answers every call with "head:" and an adopted body from a buffer of its own.
struct AdoptingHandler : ServerHandler {
  GrpcServerConnection* conn = nullptr;
  mem::Buffer* owner = nullptr;
  size_t offset = 0;
  size_t size = 0;
  bool responded = false;
  void on_unary_request(const UnaryRequest& req) override {
    responded = conn->respond(req.id, {}, "head:", 0, {}, {}, AdoptedBody{owner, offset, size});
  }
  void on_call_cancelled(CallId) override {}
};

TEST(BodyByReference, TheServerSendsAnAdoptedBodyAndGivesItsBlockBack) {
  for (size_t size : {size_t{1}, size_t{16384}, size_t{1} << 20}) {
    mem::ShardPool pool;
    AdoptingHandler sh;
    testing::TestClientHandler ch;
    GrpcClientConnection client(&pool, &ch, 4u << 20);
    GrpcServerConnection server(&pool, &sh, 4u << 20);
    sh.conn = &server;
    ASSERT_TRUE(client.start() && server.start());
    mem::Buffer c2s(&pool), s2c(&pool);
    auto pump = [&] {
      for (int i = 0; i < 10000; ++i) {
        ASSERT_TRUE(client.flush_to(&c2s));
        bool moved = !c2s.empty();
        if (moved) {
          ASSERT_TRUE(server.feed(c2s.data(), c2s.size()));
        }
        c2s.clear();
        ASSERT_TRUE(server.flush_to(&s2c));
        moved = moved || !s2c.empty();
        if (!s2c.empty()) {
          ASSERT_TRUE(client.feed(s2c.data(), s2c.size()));
        }
        s2c.clear();
        if (!moved) return;
      }
      FAIL() << "pump did not settle";
    };
    pump();

    // Two identical calls; each adopts a freshly filled buffer (as the HTTP app channel's:
    // response head, then body). Blocks outstanding after each: equal when the adopted block
    // went back to the pool, one more per call if the server kept it.
    mem::Buffer app_input(&pool);
    const std::string body = pattern(size, 5);
    uint64_t outstanding[2] = {};
    for (int call = 0; call < 2; ++call) {
      ASSERT_TRUE(app_input.append("HTTP/1.1 200 OK\r\n\r\n") && app_input.append(body));
      sh.owner = &app_input;
      sh.offset = 19;
      sh.size = size;
      sh.responded = false;
      client.start_unary("/test.Svc/Echo", "a", {}, 0, "ping", nullptr);
      pump();
      ASSERT_TRUE(sh.responded) << size;
      EXPECT_TRUE(app_input.empty()) << "respond() takes the buffer over";
      EXPECT_EQ(app_input.capacity(), 0u);
      ASSERT_EQ(ch.done.size(), static_cast<size_t>(call + 1));
      EXPECT_EQ(ch.done[call].grpc_status, 0) << ch.done[call].grpc_message;
      EXPECT_TRUE(ch.done[call].message == "head:" + body) << size;
      outstanding[call] = pool.stats().allocs - pool.stats().frees;
    }
    EXPECT_EQ(outstanding[1], outstanding[0]) << size;
  }
}

}  // namespace
}  // namespace ringside::grpc
