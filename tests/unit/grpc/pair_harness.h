#pragma once
// In-memory wiring of a GrpcClientConnection to a GrpcServerConnection: bytes move between
// them byte-for-byte through two pool buffers, no sockets.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dataplane/grpc/client_connection.h"
#include "dataplane/grpc/server_connection.h"

namespace ringside::grpc::testing {

struct OwnedMetadata {
  std::string key;
  std::string value;
};

inline std::vector<OwnedMetadata> own(std::span<const Metadata> md) {
  std::vector<OwnedMetadata> out;
  for (const Metadata& m : md) out.push_back({std::string(m.key), std::string(m.value)});
  return out;
}

inline std::string find(const std::vector<OwnedMetadata>& md, std::string_view key) {
  for (const auto& m : md) {
    if (m.key == key) return m.value;
  }
  return "<absent>";
}

// Server app: echoes the message; "x-status" metadata picks an error (text: error_text); path
// "/test.Svc/Hold" keeps the call for the test to answer later.
struct TestServerHandler : ServerHandler {
  struct Seen {
    CallId id;
    std::string path, authority, message;
    std::vector<OwnedMetadata> metadata;
    int64_t timeout_ns;
  };
  GrpcServerConnection* conn = nullptr;
  std::vector<Seen> requests;
  std::vector<CallId> held;
  std::vector<CallId> cancelled;
  bool allocate_nothing = false;  // pool accounting mode: keep no per-call copies
  std::string error_text;         // grpc-message sent with an "x-status" error

  void on_unary_request(const UnaryRequest& req) override {
    if (!allocate_nothing) {
      requests.push_back({req.id, std::string(req.path), std::string(req.authority),
                          std::string(req.message), own(req.metadata), req.timeout_ns});
    }
    if (req.path == "/test.Svc/Hold") {
      if (!allocate_nothing) held.push_back(req.id);
      return;
    }
    int status = 0;
    std::string_view text = error_text;
    for (const Metadata& m : req.metadata) {
      if (m.key == "x-status") {
        for (char c : m.value) status = status * 10 + (c - '0');
      }
    }
    static constexpr Metadata kHeaders[] = {{"x-reply-header", "h1"}};
    static constexpr Metadata kTrailers[] = {{"x-reply-trailer", "t1"}};
    std::string_view body = status == 0 ? req.message : std::string_view();
    EXPECT_TRUE(conn->respond(req.id, kHeaders, body, status, text, kTrailers));
  }
  void on_call_cancelled(CallId id) override { cancelled.push_back(id); }
};

struct TestClientHandler : ClientHandler {
  struct Done {
    uintptr_t user;
    int grpc_status;
    std::string grpc_message, message;
    std::vector<OwnedMetadata> headers, trailers;
    bool not_processed, transport_error;
  };
  std::vector<Done> done;
  bool allocate_nothing = false;
  size_t count = 0;
  int last_status = -1;

  void on_unary_complete(void* user, const UnaryResult& r) override {
    ++count;
    last_status = r.grpc_status;
    if (allocate_nothing) return;
    done.push_back({reinterpret_cast<uintptr_t>(user), r.grpc_status, std::string(r.grpc_message),
                    std::string(r.message), own(r.headers), own(r.trailers), r.not_processed,
                    r.transport_error});
  }
  const Done* find_user(uintptr_t user) const {
    for (const auto& d : done) {
      if (d.user == user) return &d;
    }
    return nullptr;
  }
};

struct Pair {
  explicit Pair(uint32_t server_max = 4u << 20, http2::SessionSettings server_settings = {},
                uint32_t client_max = 4u << 20)
      : c2s(&pool), s2c(&pool), client(&pool, &ch, client_max),
        server(&pool, &sh, server_max, server_settings) {
    sh.conn = &server;
    EXPECT_TRUE(client.start());
    EXPECT_TRUE(server.start());
  }
  // Moves bytes both ways until neither side has anything to say.
  void pump(int max_rounds = 10000) {
    for (int i = 0; i < max_rounds; ++i) {
      client_ok = client.flush_to(&c2s) && client_ok;
      bool moved = !c2s.empty();
      if (!c2s.empty()) {
        server_ok = server.feed(c2s.data(), c2s.size()) && server_ok;
        c2s.clear();
      }
      server_ok = server.flush_to(&s2c) && server_ok;
      moved = moved || !s2c.empty();
      if (!s2c.empty()) {
        client_ok = client.feed(s2c.data(), s2c.size()) && client_ok;
        s2c.clear();
      }
      if (!moved) return;
    }
    ADD_FAILURE() << "pump did not settle";
  }

  mem::ShardPool pool;
  mem::Buffer c2s, s2c;
  TestClientHandler ch;
  TestServerHandler sh;
  GrpcClientConnection client;
  GrpcServerConnection server;
  bool client_ok = true;
  bool server_ok = true;
};

}  // namespace ringside::grpc::testing
