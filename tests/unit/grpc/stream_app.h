#pragma once
// Test server application for streaming calls. Paths under "/test.Stream/" are stream mode:
//   Echo   - bidi: echoes raw bytes as they arrive (headers first, trailers at half-close)
//   Sum    - client streaming: at half-close answers "<count>:<last message>"
//   Range  - server streaming: at half-close sends x-count messages "r<i>", respecting the
//            watermarks (continues from on_stream_writable)
//   Unary  - one message in, the same message out at half-close
//   Fail   - trailers-only FAILED_PRECONDITION with grpc-status-details-bin
//   Details- headers, one message, then INVALID_ARGUMENT with details in the trailers
//   Sink   - records bytes; consumes only when the test says so (manual_consume)
#include <map>
#include <string>
#include <vector>

#include "tests/unit/grpc/stream_harness.h"

namespace ringside::grpc::testing {

inline constexpr std::string_view kDetailsBin = "CAMSEWJhZCBhcmd1bWVudCBoZXJl";  // opaque

struct StreamServerApp : ServerHandler {
  struct CallState {
    std::string path;
    std::vector<OwnedMetadata> metadata;
    int64_t timeout_ns = 0;
    FrameSplitter in;
    uint64_t received = 0;     // DATA bytes received
    size_t pending_consume = 0;  // echoed but not yet consume()d (queue above high)
    bool half_closed = false;
    int to_send = 0, sent = 0;  // Range progress
  };
  GrpcServerConnection* conn = nullptr;
  std::map<CallId, CallState> calls;
  std::vector<CallId> cancelled;
  bool keep_messages = true;    // split and keep received messages
  size_t max_queued = 0;        // largest queued_bytes() seen after a send
  uint64_t sink_unconsumed = 0; // Sink: received and not yet consumed

  CallMode classify(std::string_view path, std::span<const Metadata>) override {
    return path.starts_with("/test.Stream/") ? CallMode::kStream : CallMode::kUnary;
  }
  void on_unary_request(const UnaryRequest& req) override {
    conn->respond(req.id, {}, req.message, 0, "", {});
  }
  void on_call_cancelled(CallId id) override { cancelled.push_back(id); }

  void on_stream_start(const StreamStart& s) override {
    CallState& c = calls[s.id];
    c.path = std::string(s.path);
    c.metadata = own(s.metadata);
    c.timeout_ns = s.timeout_ns;
    std::string count = find(c.metadata, "x-count");
    if (count != "<absent>") c.to_send = std::stoi(count);
    if (c.path == "/test.Stream/Echo") {
      Metadata h[] = {{"x-reply-header", "h1"}};
      EXPECT_TRUE(conn->send_headers(s.id, h));
    } else if (c.path == "/test.Stream/Fail") {
      Metadata t[] = {{"grpc-status-details-bin", kDetailsBin}, {"x-why", "because"}};
      EXPECT_TRUE(conn->send_trailers(s.id, 9, "not ready: 100%", t));
    }
  }

  void on_stream_data(CallId id, std::span<const uint8_t> b) override {
    CallState& c = calls[id];
    c.received += b.size();
    if (keep_messages) c.in.feed(b);
    if (c.path == "/test.Stream/Sink") {
      sink_unconsumed += b.size();
      return;
    }
    if (c.path == "/test.Stream/Echo") {
      EXPECT_TRUE(conn->send_data(id, b));
      note_queue(id);
      c.pending_consume += b.size();
      if (conn->queued_bytes(id) < kStreamHighWatermark) release(id, c);
      return;
    }
    conn->consume(id, b.size());
  }

  void on_stream_writable(CallId id) override {
    CallState& c = calls[id];
    release(id, c);
    if (c.path == "/test.Stream/Range" && c.half_closed) produce(id, c);
  }

  void on_stream_half_close(CallId id) override {
    CallState& c = calls[id];
    c.half_closed = true;
    if (c.path == "/test.Stream/Echo") {
      if (c.pending_consume == 0) finish_echo(id);
    } else if (c.path == "/test.Stream/Sum") {
      std::string last = c.in.messages.empty() ? "" : c.in.messages.back();
      std::string reply = frame(std::to_string(c.in.messages.size()) + ":" + last);
      EXPECT_TRUE(conn->send_data(id, bytes_of(reply)));
      EXPECT_TRUE(conn->send_trailers(id, 0, "", {}));
    } else if (c.path == "/test.Stream/Range") {
      produce(id, c);
    } else if (c.path == "/test.Stream/Unary") {
      Metadata h[] = {{"x-reply-header", "u1"}};
      Metadata t[] = {{"x-reply-trailer", "u2"}};
      EXPECT_TRUE(conn->send_headers(id, h));
      EXPECT_EQ(c.in.messages.size(), 1u);
      if (!c.in.messages.empty()) {
        EXPECT_TRUE(conn->send_data(id, bytes_of(frame(c.in.messages[0]))));
      }
      EXPECT_TRUE(conn->send_trailers(id, 0, "", t));
    } else if (c.path == "/test.Stream/Details") {
      Metadata t[] = {{"grpc-status-details-bin", kDetailsBin}};
      EXPECT_TRUE(conn->send_data(id, bytes_of(frame("partial"))));
      EXPECT_TRUE(conn->send_trailers(id, 3, "bad argument here", t));
    } else if (c.path == "/test.Stream/Sink") {
      EXPECT_TRUE(conn->send_trailers(id, 0, "", {}));
    }
  }

  // Consumes what was echoed once the echo queue has room again.
  void release(CallId id, CallState& c) {
    if (c.pending_consume == 0) return;
    conn->consume(id, c.pending_consume);
    c.pending_consume = 0;
    if (c.half_closed && c.path == "/test.Stream/Echo") finish_echo(id);
  }
  void finish_echo(CallId id) {
    Metadata t[] = {{"x-reply-trailer", "t1"}};
    EXPECT_TRUE(conn->send_trailers(id, 0, "", t));
  }
  void produce(CallId id, CallState& c) {
    // Bounded by to_send; pauses at the high watermark until on_stream_writable.
    while (c.sent < c.to_send && conn->queued_bytes(id) < kStreamHighWatermark) {
      EXPECT_TRUE(conn->send_data(id, bytes_of(frame("r" + std::to_string(c.sent++)))));
      note_queue(id);
    }
    if (c.sent == c.to_send) {
      EXPECT_TRUE(conn->send_trailers(id, 0, "", {}));
      c.sent = c.to_send + 1;  // trailers sent once
    }
  }
  void note_queue(CallId id) {
    size_t q = conn->queued_bytes(id);
    if (q > max_queued) max_queued = q;
  }
};

}  // namespace ringside::grpc::testing
