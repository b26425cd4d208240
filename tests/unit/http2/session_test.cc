// http2::Session: nghttp2 on pool memory, driven sans-IO.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/http2/pool_mem.h"
#include "dataplane/http2/session.h"

namespace ringside::http2 {
namespace {

struct Counters {
  int requests = 0;   // request HEADERS frames received (server)
  int responses = 0;  // response HEADERS frames received (client)
};

int on_frame_recv(nghttp2_session* s, const nghttp2_frame* f, void* ud) {
  auto* c = static_cast<Counters*>(ud);
  if (f->hd.type != NGHTTP2_HEADERS) return 0;
  if (f->headers.cat == NGHTTP2_HCAT_REQUEST) {
    ++c->requests;
    nghttp2_nv nv[] = {{(uint8_t*)":status", (uint8_t*)"204", 7, 3, NGHTTP2_NV_FLAG_NONE}};
    nghttp2_submit_response(s, f->hd.stream_id, nv, 1, nullptr);
  } else if (f->headers.cat == NGHTTP2_HCAT_RESPONSE) {
    ++c->responses;
  }
  return 0;
}

nghttp2_session_callbacks* callbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, on_frame_recv);
    return c;
  }();
  return cbs;
}

void pump(Session& a, Session& b, mem::Buffer& buf) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(a.flush_to(&buf));
    bool moved = !buf.empty();
    if (moved) b.feed(buf.data(), buf.size());
    buf.clear();
    ASSERT_TRUE(b.flush_to(&buf));
    moved = moved || !buf.empty();
    if (!buf.empty()) a.feed(buf.data(), buf.size());
    buf.clear();
    if (!moved) return;
  }
}

TEST(PoolMem, RoutesNghttp2AllocationsToThePool) {
  mem::ShardPool pool;
  nghttp2_mem m = pool_mem(&pool);
  void* p = m.malloc(100, m.mem_user_data);
  ASSERT_NE(p, nullptr);
  p = m.realloc(p, 5000, m.mem_user_data);
  auto* z = static_cast<unsigned char*>(m.calloc(10, 10, m.mem_user_data));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(z[i], 0);
  m.free(p, m.mem_user_data);
  m.free(z, m.mem_user_data);
  EXPECT_EQ(pool.stats().allocs, pool.stats().frees);
}

TEST(Session, ClientServerExchangeUsesOnlyPoolMemory) {
  mem::ShardPool pool;
  Counters cc, sc;
  mem::Buffer buf(&pool);
  {
    Session client(&pool), server(&pool);
    ASSERT_TRUE(client.start(Role::kClient, callbacks(), &cc, {}));
    ASSERT_TRUE(server.start(Role::kServer, callbacks(), &sc, {}));
    uint64_t after_start = pool.stats().allocs;
    EXPECT_GT(after_start, 0u);  // nghttp2 allocated through the hooks

    nghttp2_nv nv[] = {
        {(uint8_t*)":method", (uint8_t*)"POST", 7, 4, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":scheme", (uint8_t*)"http", 7, 4, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":path", (uint8_t*)"/x", 5, 2, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t*)":authority", (uint8_t*)"a", 10, 1, NGHTTP2_NV_FLAG_NONE},
    };
    for (int round = 0; round < 3; ++round) {
      ASSERT_GT(nghttp2_submit_request(client.get(), nullptr, nv, 4, nullptr, nullptr), 0);
      pump(client, server, buf);
    }
    EXPECT_EQ(sc.requests, 3);
    EXPECT_EQ(cc.responses, 3);
    // Our big receive windows are in effect for the peer.
    EXPECT_EQ(nghttp2_session_get_remote_settings(client.get(),
                                                  NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE),
              SessionSettings{}.initial_stream_window);
    EXPECT_EQ(nghttp2_session_get_remote_settings(client.get(),
                                                  NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
              2048u);
    EXPECT_GE(nghttp2_session_get_effective_local_window_size(server.get()),
              static_cast<int32_t>(SessionSettings{}.connection_window));
    EXPECT_FALSE(client.wants_close());

    server.shutdown();
    pump(client, server, buf);
    EXPECT_TRUE(server.wants_close());
    EXPECT_TRUE(client.wants_close());
  }
  buf.release();
  // Everything nghttp2 took came back when the sessions were deleted.
  EXPECT_EQ(pool.stats().allocs, pool.stats().frees);
}

TEST(Session, BadClientPrefaceIsFatal) {
  mem::ShardPool pool;
  Counters sc;
  Session server(&pool);
  ASSERT_TRUE(server.start(Role::kServer, callbacks(), &sc, {}));
  std::string junk = "PRI * HTTP/1.1\r\n\r\nXX\r\n\r\n";
  EXPECT_FALSE(server.feed(reinterpret_cast<const uint8_t*>(junk.data()), junk.size()));
  EXPECT_TRUE(server.wants_close());
  EXPECT_FALSE(server.alive());
}

TEST(Session, TerminateStopsReading) {
  mem::ShardPool pool;
  Counters cc;
  Session client(&pool);
  ASSERT_TRUE(client.start(Role::kClient, callbacks(), &cc, {}));
  client.terminate(NGHTTP2_PROTOCOL_ERROR);
  mem::Buffer out(&pool);
  ASSERT_TRUE(client.flush_to(&out));
  EXPECT_GT(out.size(), 24u);  // preface + SETTINGS + GOAWAY
  EXPECT_TRUE(client.wants_close());
}

// A flush bounded by max_bytes stops between frames and leaves the rest queued in nghttp2: the
// transport link relies on this to keep a slow reader's socket output small.
TEST(Session, BoundedFlushLeavesTheRestForTheNextFlush) {
  mem::ShardPool pool;
  Counters cc;
  Session client(&pool);
  ASSERT_TRUE(client.start(Role::kClient, callbacks(), &cc, {}));
  mem::Buffer unbounded(&pool);
  ASSERT_TRUE(client.flush_to(&unbounded));  // preface, SETTINGS, WINDOW_UPDATE
  // Queue many small frames (PINGs: 17 bytes each) and drain them with a small bound.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(nghttp2_submit_ping(client.get(), NGHTTP2_FLAG_NONE, nullptr), 0);
  mem::Buffer out(&pool);
  ASSERT_TRUE(client.flush_to(&out, 100));
  EXPECT_GE(out.size(), 100u);
  EXPECT_LT(out.size(), 100u + 17u);  // stopped right after the frame that crossed the bound
  EXPECT_NE(nghttp2_session_want_write(client.get()), 0);
  size_t first = out.size();
  ASSERT_TRUE(client.flush_to(&out));
  EXPECT_EQ(out.size(), 100u * 17u);  // nothing lost, nothing repeated
  EXPECT_GT(out.size(), first);
  EXPECT_EQ(nghttp2_session_want_write(client.get()), 0);
}

}  // namespace
}  // namespace ringside::http2
