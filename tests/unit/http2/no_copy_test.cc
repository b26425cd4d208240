// Issue 11: DATA payloads are read straight into the output buffer (NGHTTP2_DATA_FLAG_NO_COPY)
// instead of into nghttp2's frame buffer and then out. A real client endpoint sends a request
// body to a real server endpoint through bounded flushes; the server must see every byte in
// order, each flush must respect its bound (nghttp2 is paused at it), and the DATA frames must
// have taken the NO_COPY path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "dataplane/http2/endpoint.h"

namespace ringside::http2 {
namespace {

// The body a client request sends, read by offset like the gRPC unary provider.
struct Body {
  std::string bytes;   // the whole body
  size_t sent = 0;     // bytes handed to nghttp2 so far
};

class ClientEndpoint final : public Endpoint {
 public:
  explicit ClientEndpoint(mem::ShardPool* pool) : Endpoint(pool, Role::kClient, {}) {}

  // Submits POST /upload with `body` as its DATA (END_STREAM on the last frame).
  bool send_request(Body* body) {
    nv_.clear();
    if (!push_nv(":method", "POST") || !push_nv(":scheme", "http") || !push_nv(":path", "/upload") ||
        !push_nv(":authority", "test")) {
      return false;
    }
    nghttp2_data_provider data = provider<&ClientEndpoint::read_body>(body);
    return nghttp2_submit_request(session_.get(), nullptr, nv_.data(), nv_.size(), &data,
                                  nullptr) > 0;
  }

 private:
  ssize_t read_body(Body* b, uint8_t* buf, size_t length, uint32_t* flags) {
    size_t n = b->bytes.size() - b->sent;
    if (n > length) n = length;
    std::memcpy(buf, b->bytes.data() + b->sent, n);
    b->sent += n;
    if (b->sent == b->bytes.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  int on_header(const nghttp2_frame&, std::string_view, std::string_view) override { return 0; }
  int on_data_chunk(int32_t, std::span<const uint8_t>) override { return 0; }
  int on_frame_recv(const nghttp2_frame&) override { return 0; }
  int on_frame_send(const nghttp2_frame&) override { return 0; }
  int on_stream_close(int32_t, uint32_t) override { return 0; }
  void on_writable(uint64_t) override {}
};

class ServerEndpoint final : public Endpoint {
 public:
  explicit ServerEndpoint(mem::ShardPool* pool) : Endpoint(pool, Role::kServer, {}) {}

  std::string received;      // every DATA byte of the request, in order
  bool ended = false;        // END_STREAM seen on the request

 private:
  int on_header(const nghttp2_frame&, std::string_view, std::string_view) override { return 0; }
  int on_data_chunk(int32_t stream_id, std::span<const uint8_t> data) override {
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
    session_.consume_stream(stream_id, data.size());  // keep the client's window open
    return 0;
  }
  int on_frame_recv(const nghttp2_frame& f) override {
    if (f.hd.stream_id != 0 && (f.hd.flags & NGHTTP2_FLAG_END_STREAM)) ended = true;
    return 0;
  }
  int on_frame_send(const nghttp2_frame&) override { return 0; }
  int on_stream_close(int32_t, uint32_t) override { return 0; }
  void on_writable(uint64_t) override {}
};

TEST(NoCopyData, BodyArrivesIntactThroughBoundedFlushes) {
  mem::ShardPool pool;
  ClientEndpoint client(&pool);
  ServerEndpoint server(&pool);
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(server.start());
  Body body;
  body.bytes.resize(3 << 20);  // 3 MiB: many frames, several window updates
  for (size_t i = 0; i < body.bytes.size(); ++i) body.bytes[i] = static_cast<char>(i * 131 + i / 7);
  ASSERT_TRUE(client.send_request(&body));

  constexpr size_t kBound = 100'000;  // per flush, like TransportLink's high-water bound
  constexpr size_t kMaxOvershoot = 16384 + 9;  // one DATA frame may cross the bound
  size_t largest_flush = 0;
  for (int round = 0; round < 10'000 && !server.ended; ++round) {
    mem::Buffer to_server(&pool);
    ASSERT_TRUE(client.flush_to(&to_server, kBound));
    largest_flush = std::max(largest_flush, to_server.size());
    ASSERT_TRUE(server.feed(to_server.data(), to_server.size()));
    mem::Buffer to_client(&pool);
    ASSERT_TRUE(server.flush_to(&to_client));
    ASSERT_TRUE(client.feed(to_client.data(), to_client.size()));
  }
  ASSERT_TRUE(server.ended) << "received " << server.received.size() << " of " << body.bytes.size();
  ASSERT_EQ(server.received.size(), body.bytes.size());
  EXPECT_TRUE(server.received == body.bytes) << "DATA bytes changed or reordered";
  EXPECT_LE(largest_flush, kBound + kMaxOvershoot) << "NO_COPY frames must pause at the bound";
  // 3 MiB in frames of at most 16 KiB: every one of them went out without nghttp2's copy.
  EXPECT_GE(client.no_copy_frames(), body.bytes.size() / 16384);
  std::printf("NO_COPY DATA frames: %llu, largest flush: %zu bytes\n",
              static_cast<unsigned long long>(client.no_copy_frames()), largest_flush);
}

TEST(NoCopyData, EmptyBodyEndsTheStream) {
  mem::ShardPool pool;
  ClientEndpoint client(&pool);
  ServerEndpoint server(&pool);
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(server.start());
  Body body;  // zero bytes: one empty DATA frame with END_STREAM
  ASSERT_TRUE(client.send_request(&body));
  for (int round = 0; round < 10 && !server.ended; ++round) {
    mem::Buffer to_server(&pool);
    ASSERT_TRUE(client.flush_to(&to_server));
    ASSERT_TRUE(server.feed(to_server.data(), to_server.size()));
    mem::Buffer to_client(&pool);
    ASSERT_TRUE(server.flush_to(&to_client));
    ASSERT_TRUE(client.feed(to_client.data(), to_client.size()));
  }
  EXPECT_TRUE(server.ended);
  EXPECT_TRUE(server.received.empty());
}

}  // namespace
}  // namespace ringside::http2
