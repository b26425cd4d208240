#pragma once
// The per-call and per-connection state of HttpAppChannel, shared by its unary half
// (http_app_channel.cc) and its streaming half (http_app_stream.cc). Internal to the channel.
#include <cstdint>

#include "dataplane/http1/chunked_decoder.h"
#include "dataplane/http1/message.h"
#include "dataplane/http1/response_parser.h"
#include "dataplane/appchannel/http/http_app_channel.h"
#include "dataplane/mem/pooled_byte_queue.h"
#include "dataplane/io/tcp_connection.h"
#include "dataplane/mem/buffer.h"

namespace ringside::invoke {

// One invocation on its way to the app.
struct AppCall {
  explicit AppCall(mem::ShardPool* pool) : held(pool), stash(pool) {}

  // ---- both kinds ----
  const codec::InternalInvokeRequestView* request = nullptr;  // valid until completion/cancel
  HttpAppChannel::Conn* conn = nullptr;  // connection carrying it, if any (always alive)
  AppCall* next = nullptr;               // wait-queue link
  bool head_request = false;             // HEAD: the response has no body
  bool streaming = false;                // started by invoke_stream()

  // ---- unary calls ----
  AppCallCompletion* done = nullptr;     // nullptr once cancelled

  // ---- streaming calls: request ----
  AppStreamCompletion* stream = nullptr; // nullptr once the last callback ran or cancelled
  int64_t body_length = -1;              // declared request body size; -1: sent chunked
  uint64_t body_sent = 0;                // request body bytes accepted so far
  size_t queued = 0;                     // request bytes given to the socket since it drained
  PooledByteQueue held;                  // framed request bytes the socket has not taken yet
  bool request_ended = false;            // end_request_body() accepted

  // ---- streaming calls: response ----
  bool head_delivered = false;           // on_app_response_head() ran
  bool keep_alive = false;               // the response allows reusing the connection
  http1::BodyKind body_kind = http1::BodyKind::kNone;  // how the response body is delimited
  uint64_t body_left = 0;                // kLength: body bytes still to come
  http1::ChunkedDecoder chunked;         // kChunked: decodes `stash` in place
  mem::Buffer stash;                     // body bytes received and not handed on yet
  bool paused = false;                   // pause_response(): no body callbacks
  bool conn_lost = false;                // the connection is gone; `stash` is all there is
  bool draining = false;                 // a delivery loop for this call is on the stack
  bool finished = false;                 // last callback delivered or cancelled

  // The request body is complete: its last byte is queued (not necessarily written yet).
  bool request_complete() const {
    return request_ended || (body_length >= 0 && body_sent == static_cast<uint64_t>(body_length));
  }
};

// One keep-alive connection to the app.
struct HttpAppChannel::Conn final : io::TcpConnection::Handler {
  HttpAppChannel* channel;
  io::TcpConnection* tcp = nullptr;
  mem::Buffer in;                 // response bytes received so far (streaming: the head only)
  AppCall* call = nullptr;        // the call in flight on this connection
  Conn* next_idle = nullptr;      // idle-list link
  http1::ResponseHead head;       // parsed response head (views into `in`)
  http1::ChunkedDecoder chunked;  // for chunked unary responses
  bool head_done = false;         // head parsed for the current unary response
  const char* head_base = nullptr;  // in.data() when head was parsed (its views point there)
  bool idle = false;              // on the idle list

  Conn(HttpAppChannel* ch, mem::ShardPool* pool) : channel(ch), in(pool) {}

  // Bytes written before the connect completed wait in tcp->out(); the connection sends them
  // itself once connected. A failed connect is reported through on_closed.
  void on_connected(io::ByteStream&, int) override {}
  void on_data(io::ByteStream&, std::span<const uint8_t> bytes) override {
    if (!call) {  // unsolicited bytes from the app: protocol error
      tcp->close();
      return;
    }
    if (call->streaming) {
      channel->stream_data(this, bytes);
      return;
    }
    if (!in.append(bytes.data(), bytes.size())) {
      tcp->close();
      return;
    }
    channel->complete_response(this);
  }
  void on_drained(io::ByteStream&) override {
    if (call && call->streaming) channel->stream_drained(this);
  }
  void on_closed(io::ByteStream&, int err) override { channel->conn_closed(this, err); }
};

}  // namespace ringside::invoke
