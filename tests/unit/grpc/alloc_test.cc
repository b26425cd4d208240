// Counts every call into the C allocator (malloc & co are interposed for this binary) while
// unary calls run through an in-memory client/server pair: after warm-up there must be none,
// from nghttp2 or from us (BRIEF §7: zero global-allocator calls per request).
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <string>

#include "tests/unit/grpc/pair_harness.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_calls{0};
inline void count() {
  if (g_counting.load(std::memory_order_relaxed)) g_calls.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  count();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t align, size_t n) {
  count();
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) {
  count();
  *out = __libc_memalign(align, n);
  return *out ? 0 : 12;
}
}

namespace ringside::grpc {
namespace {

TEST(GrpcAllocations, NoGlobalAllocatorCallsPerCallAfterWarmup) {
  testing::Pair p;
  p.sh.allocate_nothing = true;
  p.ch.allocate_nothing = true;
  std::string msg(5000, 'm');
  Metadata md[] = {{"dapr-app-id", "orders"}, {"traceparent", "00-abc-def-01"}};
  auto run = [&](int rounds) {
    for (int i = 0; i < rounds; ++i) {
      for (int j = 0; j < 16; ++j) {
        p.client.start_unary("/test.Svc/Echo", "peer", md, 1'000'000'000, msg, nullptr);
      }
      p.pump();
    }
  };
  // Warm-up covers a connection-window cycle (>8 MiB), so the first automatic WINDOW_UPDATE
  // has already taken its outbound-item block from the pool.
  run(150);
  g_calls = 0;
  g_counting = true;
  run(200);
  g_counting = false;
  EXPECT_EQ(p.ch.count, 16u * 350);
  EXPECT_EQ(p.ch.last_status, 0);
  EXPECT_EQ(g_calls.load(), 0u);
}

// Streaming calls (bidi echo, 4 messages each way, headers and trailers) in steady state.
struct QuietEchoServer : ServerHandler {
  GrpcServerConnection* conn = nullptr;
  CallMode classify(std::string_view, std::span<const Metadata>) override {
    return CallMode::kStream;
  }
  void on_unary_request(const UnaryRequest&) override {}
  void on_call_cancelled(CallId) override {}
  void on_stream_start(const StreamStart& s) override { conn->send_headers(s.id, {}); }
  void on_stream_data(CallId id, std::span<const uint8_t> b) override {
    conn->send_data(id, b);
    conn->consume(id, b.size());
  }
  void on_stream_half_close(CallId id) override { conn->send_trailers(id, 0, "", {}); }
};

struct QuietStreamClient : ClientHandler {
  GrpcClientConnection* conn = nullptr;
  size_t ended = 0;
  int last_status = -1;
  uint64_t received = 0;
  void on_unary_complete(void*, const UnaryResult&) override {}
  void on_stream_data(void* user, std::span<const uint8_t> b) override {
    received += b.size();
    conn->consume(*static_cast<int32_t*>(user), b.size());
  }
  void on_stream_end(void*, int status, std::string_view, std::span<const Metadata>, bool,
                     bool) override {
    ++ended;
    last_status = status;
  }
};

TEST(GrpcAllocations, NoGlobalAllocatorCallsPerStreamAfterWarmup) {
  mem::ShardPool pool;
  mem::Buffer c2s(&pool), s2c(&pool);
  QuietEchoServer sh;
  QuietStreamClient ch;
  GrpcClientConnection client(&pool, &ch, 4u << 20);
  GrpcServerConnection server(&pool, &sh, 4u << 20);
  sh.conn = &server;
  ch.conn = &client;
  ASSERT_TRUE(client.start() && server.start());
  std::string msg(1000, 'm');
  msg[0] = 0;  // a 995-byte gRPC message: flag 0, then a length that fits the rest
  msg[1] = msg[2] = 0;
  msg[3] = static_cast<char>(995 >> 8);
  msg[4] = static_cast<char>(995 & 0xff);
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
  Metadata md[] = {{"dapr-app-id", "orders"}};
  int32_t ids[16] = {};
  auto pump = [&] {
    for (int i = 0; i < 1000; ++i) {
      client.flush_to(&c2s);
      bool moved = !c2s.empty();
      if (moved) server.feed(c2s.data(), c2s.size());
      c2s.clear();
      server.flush_to(&s2c);
      moved = moved || !s2c.empty();
      if (!s2c.empty()) client.feed(s2c.data(), s2c.size());
      s2c.clear();
      if (!moved) return;
    }
  };
  auto run = [&](int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (int j = 0; j < 16; ++j) {
        ids[j] = client.start_stream("/test.Svc/Bidi", "peer", md, 1'000'000'000, &ids[j]);
        for (int k = 0; k < 4; ++k) client.send_data(ids[j], bytes);
        client.close_send(ids[j]);
      }
      pump();
    }
  };
  run(150);  // warm-up: > half a connection window each way (a WINDOW_UPDATE cycle)
  g_calls = 0;
  g_counting = true;
  run(200);
  g_counting = false;
  EXPECT_EQ(ch.ended, 16u * 350);
  EXPECT_EQ(ch.last_status, 0);
  EXPECT_EQ(ch.received, uint64_t{16} * 350 * 4 * 1000);
  EXPECT_EQ(g_calls.load(), 0u);
}

TEST(GrpcAllocations, InterpositionWorks) {
  g_calls = 0;
  g_counting = true;
  void* volatile p = malloc(10);
  g_counting = false;
  free(p);
  EXPECT_EQ(g_calls.load(), 1u);
}

}  // namespace
}  // namespace ringside::grpc
