#pragma once
// Helpers for streaming-call tests: gRPC framing of test messages, a frame splitter for
// received byte streams, recording handlers, and an in-memory client/server pair.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/grpc/client_connection.h"
#include "dataplane/grpc/server_connection.h"
#include "tests/unit/grpc/pair_harness.h"

namespace ringside::grpc::testing {

inline std::string frame(std::string_view msg) {
  std::string f(5, '\0');
  auto n = static_cast<uint32_t>(msg.size());
  f[1] = static_cast<char>(n >> 24);
  f[2] = static_cast<char>(n >> 16);
  f[3] = static_cast<char>(n >> 8);
  f[4] = static_cast<char>(n);
  f.append(msg);
  return f;
}

inline std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Splits a byte stream arriving in arbitrary pieces into gRPC messages.
struct FrameSplitter {
  std::string pending;
  std::vector<std::string> messages;
  void feed(std::span<const uint8_t> b) {
    pending.append(reinterpret_cast<const char*>(b.data()), b.size());
    size_t off = 0;
    while (pending.size() - off >= 5) {
      auto* p = reinterpret_cast<const uint8_t*>(pending.data() + off);
      uint32_t n = uint32_t{p[1]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 8 | p[4];
      if (pending.size() - off - 5 < n) break;
      messages.push_back(pending.substr(off + 5, n));
      off += 5 + n;
    }
    pending.erase(0, off);
  }
};

// Client side recorder for streaming calls (one call per test unless noted).
struct StreamClientHandler : ClientHandler {
  GrpcClientConnection* conn = nullptr;
  bool auto_consume = true;       // consume() every received byte at once
  bool keep_messages = true;      // split and keep received messages
  size_t headers_seen = 0;
  std::vector<OwnedMetadata> headers;
  FrameSplitter in;
  uint64_t received = 0;          // DATA bytes received
  size_t writable = 0;            // on_stream_writable calls
  int32_t stream = 0;             // stream to consume on (set by the test)
  bool ended = false;
  int status = -1;
  std::string message;
  std::vector<OwnedMetadata> trailers;
  bool transport_error = false, not_processed = false;

  void on_unary_complete(void*, const UnaryResult&) override { ADD_FAILURE() << "unary?"; }
  void on_stream_headers(void*, std::span<const Metadata> h) override {
    ++headers_seen;
    headers = own(h);
  }
  void on_stream_data(void*, std::span<const uint8_t> b) override {
    received += b.size();
    if (keep_messages) in.feed(b);
    if (auto_consume) conn->consume(stream, b.size());
  }
  void on_stream_writable(void*) override { ++writable; }
  void on_stream_end(void*, int st, std::string_view msg, std::span<const Metadata> t, bool te,
                     bool np) override {
    EXPECT_FALSE(ended) << "on_stream_end twice";
    ended = true;
    status = st;
    message = std::string(msg);
    trailers = own(t);
    transport_error = te;
    not_processed = np;
  }
};

// Generic in-memory pair over caller-supplied handlers and pool (so a test can read the
// pool's footprint after the pair is gone).
template <typename ServerH, typename ClientH>
struct StreamPair {
  StreamPair(mem::ShardPool* pool, ServerH* sh, ClientH* ch, http2::SessionSettings settings = {})
      : c2s(pool), s2c(pool), client(pool, ch, 4u << 20, settings),
        server(pool, sh, 4u << 20, settings) {
    EXPECT_TRUE(client.start());
    EXPECT_TRUE(server.start());
  }
  // One exchange each way; true if any byte moved.
  bool step() {
    client.flush_to(&c2s);
    bool moved = !c2s.empty();
    if (moved) server.feed(c2s.data(), c2s.size());
    c2s.clear();
    server.flush_to(&s2c);
    moved = moved || !s2c.empty();
    if (!s2c.empty()) client.feed(s2c.data(), s2c.size());
    s2c.clear();
    return moved;
  }
  void pump(int max_rounds = 100000) {
    for (int i = 0; i < max_rounds; ++i) {
      if (!step()) return;
    }
    ADD_FAILURE() << "pump did not settle";
  }
  mem::Buffer c2s, s2c;
  GrpcClientConnection client;
  GrpcServerConnection server;
};

}  // namespace ringside::grpc::testing
