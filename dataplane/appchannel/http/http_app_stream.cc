// The streaming half of HttpAppChannel (see http_app_channel.h): CallLocalStream bodies in both
// directions without holding them.
//
// Request: the head goes out at once (Content-Length when the caller declared the size, else
// Transfer-Encoding: chunked), body pieces follow as they are sent. The socket is given at most
// a batch (kAppSocketBatchBytes) at a time; the rest waits in the call's PooledByteQueue and
// follows each time the socket drained. request_queued() counts both, and
// on_app_request_writable() comes when a drain leaves it under the watermark.
// Response: the head is parsed from the connection's input; body bytes are handed on straight
// from the socket's receive buffers (Content-Length, until-close) or decoded in place in the
// call's stash (chunked, http1::ChunkedDecoder with the forwarded payload discarded), so at
// most what one read brings in, or arrived while paused, is held. pause_response() stops
// reading the socket: the kernel buffers fill and TCP stops the app.
//
// Re-entrancy: callbacks may call back into the channel (cancel, pause/resume, send). A call
// that ends meanwhile goes to the shard's deferred release, so it stays valid until the end of
// the loop turn, and every loop stops once call->finished is set.
#include <cerrno>
#include <cinttypes>
#include <cstdio>

#include "dataplane/grpc/stream_flow.h"
#include "dataplane/http1/number.h"
#include "dataplane/appchannel/http/http_app_call.h"
#include "dataplane/mapping/invoke_scratch.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/runtime/shard_counters.h"

namespace ringside::invoke {


AppCall* HttpAppChannel::invoke_stream(const codec::InternalInvokeRequestView& request,
                                       int64_t body_length, AppStreamCompletion* done) {
  std::string_view message;
  if (int code = check_request(request, &message)) {
    done->on_app_stream_error(code, message);
    return nullptr;
  }
  AppCall* call = mem::pool_new<AppCall>(svc_->io.pool, svc_->io.pool);
  if (!call) {
    done->on_app_stream_error(8, "error invoking app channel: out of memory");
    return nullptr;
  }
  call->streaming = true;
  call->stream = done;
  call->request = &request;
  call->head_request = request.message.http_extension.verb == 2;
  call->body_length = body_length < 0 ? -1 : body_length;
  shard::ShardCounters::bump(svc_->counters->app_calls);
  assign(call);
  return call->finished ? nullptr : call;
}

// ---- request ----------------------------------------------------------------------------

bool HttpAppChannel::send_request_body(AppCall* call, std::span<const uint8_t> bytes) {
  if (!call || call->finished) return false;
  if (call->body_length >= 0 &&
      bytes.size() > static_cast<uint64_t>(call->body_length) - call->body_sent) {
    call->body_sent += bytes.size();
    fail_request_length(call);
    return false;
  }
  if (bytes.empty()) return true;  // an empty chunk would end a chunked body
  call->body_sent += bytes.size();
  if (call->conn_lost) return true;  // the app is gone after answering: nobody reads this
  bool ok;
  if (call->body_length < 0) {
    char size_line[http1::kMaxHexDigits + 2];
    size_t n = http1::format_hex(bytes.size(), size_line);
    size_line[n++] = '\r';
    size_line[n++] = '\n';
    ok = queue_request_bytes(call, {reinterpret_cast<const uint8_t*>(size_line), n}) &&
         queue_request_bytes(call, bytes) &&
         queue_request_bytes(call, {reinterpret_cast<const uint8_t*>("\r\n"), 2});
  } else {
    ok = queue_request_bytes(call, bytes);
  }
  if (!ok) {
    fail_stream(call, 8, "error invoking app channel: out of memory");
    return false;
  }
  if (call->conn) call->conn->tcp->flush();
  return true;
}

bool HttpAppChannel::queue_request_bytes(AppCall* call, std::span<const uint8_t> bytes) {
  if (call->conn && call->held.empty() && call->queued < kAppSocketBatchBytes) {
    if (!call->conn->tcp->out().append(bytes.data(), bytes.size())) return false;
    call->queued += bytes.size();
    return true;
  }
  return call->held.append(bytes);
}

size_t HttpAppChannel::request_queued(const AppCall* call) const {
  if (!call || call->finished) return 0;
  return call->queued + call->held.size();
}

void HttpAppChannel::end_request_body(AppCall* call) {
  if (!call || call->finished || call->request_ended) return;
  if (call->body_length >= 0 && call->body_sent != static_cast<uint64_t>(call->body_length)) {
    fail_request_length(call);
    return;
  }
  if (call->body_length < 0 && !call->conn_lost) {
    static constexpr std::string_view kLastChunk = "0\r\n\r\n";
    if (!queue_request_bytes(call, {reinterpret_cast<const uint8_t*>(kLastChunk.data()),
                                    kLastChunk.size()})) {
      fail_stream(call, 8, "error invoking app channel: out of memory");
      return;
    }
    if (call->conn) call->conn->tcp->flush();
  }
  call->request_ended = true;
}

void HttpAppChannel::fail_request_length(AppCall* call) {
  // Go's client refuses the same mismatch ("http: ContentLength=N with Body length M").
  InvokeScratch* s = svc_->scratch;
  int n = snprintf(s->text, sizeof s->text,
                   "error invoking app channel: http: ContentLength=%" PRId64
                   " with Body length %" PRIu64,
                   call->body_length, call->body_sent);
  fail_stream(call, 13, std::string_view(s->text, n > 0 ? static_cast<size_t>(n) : 0));
}

void HttpAppChannel::stream_drained(Conn* conn) {
  AppCall* call = conn->call;
  // The socket took everything: give it the next batch of what waits.
  call->queued = call->held.move_to(conn->tcp->out(), kAppSocketBatchBytes);
  if (call->queued) conn->tcp->flush();
  if (call->stream && request_queued(call) < grpc::kStreamHighWatermark) {
    call->stream->on_app_request_writable();
  }
}

// ---- response ---------------------------------------------------------------------------

void HttpAppChannel::pause_response(AppCall* call) {
  if (!call || call->finished || call->paused) return;
  call->paused = true;
  if (call->conn) call->conn->tcp->pause_recv();
}

void HttpAppChannel::resume_response(AppCall* call) {
  if (!call || call->finished || !call->paused) return;
  call->paused = false;
  if (call->conn) call->conn->tcp->resume_recv();
  drain(call);  // what arrived while paused goes first
}

void HttpAppChannel::stream_data(Conn* conn, std::span<const uint8_t> bytes) {
  AppCall* call = conn->call;
  if (!call->head_delivered) {
    if (!conn->in.append(bytes.data(), bytes.size())) {
      fail_stream(call, 8, "error invoking app channel: out of memory");
      return;
    }
    read_stream_head(conn, call);
    return;
  }
  const bool plain = call->body_kind == http1::BodyKind::kLength ||
                     call->body_kind == http1::BodyKind::kUntilClose;
  if (plain && call->stash.empty() && !call->paused && !call->draining) {
    pass_through(call, bytes);  // the common case: no copy
    return;
  }
  // Chunked framing is decoded in place, and paused bytes wait: both need the stash.
  if (!call->stash.append(bytes.data(), bytes.size())) {
    fail_stream(call, 8, "error invoking app channel: out of memory");
    return;
  }
  drain(call);
}

void HttpAppChannel::read_stream_head(Conn* conn, AppCall* call) {
  for (;;) {
    auto st = http1::parse_response_head(conn->in.view(), svc_->settings->max_header_bytes,
                                         call->head_request, &conn->head);
    if (st == http1::ParseStatus::kIncomplete) return;
    if (st == http1::ParseStatus::kError) {
      fail_stream(call, 13, "error invoking app channel: malformed HTTP response");
      return;
    }
    if (conn->head.status >= 100 && conn->head.status < 200 && conn->head.status != 101) {
      conn->in.consume(conn->head.head_size);  // interim response (100 Continue): skip it
      continue;
    }
    break;
  }
  const http1::ResponseHead& head = conn->head;
  if (!encode_response(head, {})) {
    response_scratch_.clear();
    fail_stream(call, 8, "error invoking app channel: response headers too large");
    return;
  }
  call->head_delivered = true;
  call->body_kind = head.body_kind;
  call->body_left = head.body_kind == http1::BodyKind::kLength ? head.content_length : 0;
  call->keep_alive = head.keep_alive;
  call->chunked.reset();
  // Body bytes that came with the head become the stash (no copy: the buffer moves).
  conn->in.consume(head.head_size);
  call->stash = static_cast<mem::Buffer&&>(conn->in);
  conn->in.set_pool(svc_->io.pool);
  call->stream->on_app_response_head(response_scratch_.view());
  response_scratch_.clear();
  if (call->finished) return;  // cancelled from the callback
  drain(call);
}

void HttpAppChannel::deliver_body(AppCall* call, std::span<const uint8_t> bytes) {
  if (call->stream) call->stream->on_app_response_body(bytes);
}

void HttpAppChannel::pass_through(AppCall* call, std::span<const uint8_t> bytes) {
  // Marked as a delivery loop: a resume_response() from inside the callback must not drain
  // (and end the call) underneath us.
  call->draining = true;
  size_t n = bytes.size();
  if (call->body_kind == http1::BodyKind::kLength && n > call->body_left) {
    n = static_cast<size_t>(call->body_left);
  }
  if (call->body_kind == http1::BodyKind::kLength) call->body_left -= n;
  if (n > 0) deliver_body(call, bytes.first(n));
  call->draining = false;
  if (call->finished) return;
  if (call->body_kind == http1::BodyKind::kLength && call->body_left == 0) {
    end_stream(call, /*trailing_garbage=*/n < bytes.size());
  }
}

void HttpAppChannel::drain(AppCall* call) {
  if (call->draining || call->finished) return;
  call->draining = true;
  // Every round hands on bytes and shrinks the stash, or leaves the loop.
  for (;;) {
    if (call->finished) break;
    mem::Buffer& stash = call->stash;
    if (call->body_kind == http1::BodyKind::kNone) {
      end_stream(call, !stash.empty());
      break;
    }
    if (call->body_kind == http1::BodyKind::kChunked) {
      auto st = call->chunked.decode(stash.data(), stash.size(), UINT64_MAX);
      if (st == http1::ParseStatus::kError) {
        fail_stream(call, 13, "error invoking app channel: malformed chunked response body");
        break;
      }
      const size_t n = static_cast<size_t>(call->chunked.payload_size());
      if (n > 0) {
        if (call->paused) break;
        deliver_body(call, stash.span().first(n));
        if (call->finished) break;
        stash.consume(n);
        call->chunked.discard_payload(n);
        continue;
      }
      if (st == http1::ParseStatus::kComplete) {
        end_stream(call, call->chunked.consumed() < stash.size());
      } else if (call->conn_lost) {
        fail_stream(call, 13, "error invoking app channel: unexpected EOF");
      }
      break;
    }
    if (call->body_kind == http1::BodyKind::kLength && call->body_left == 0) {
      end_stream(call, !stash.empty());
      break;
    }
    if (stash.empty()) {  // need more bytes from the app
      if (!call->conn_lost) break;
      if (call->body_kind == http1::BodyKind::kUntilClose) {
        end_stream(call, false);  // the close ends the body
      } else {
        fail_stream(call, 13, "error invoking app channel: unexpected EOF");
      }
      break;
    }
    if (call->paused) break;
    size_t n = stash.size();
    if (call->body_kind == http1::BodyKind::kLength && n > call->body_left) {
      n = static_cast<size_t>(call->body_left);
    }
    if (call->body_kind == http1::BodyKind::kLength) call->body_left -= n;
    deliver_body(call, stash.span().first(n));
    if (call->finished) break;
    stash.consume(n);
  }
  call->draining = false;
}

void HttpAppChannel::stream_conn_lost(AppCall* call, int err) {
  if (!call->head_delivered) {
    fail_call(call, err ? err : -ECONNRESET);
    return;
  }
  // What was received may still complete the answer (until-close, or stashed while paused).
  call->conn_lost = true;
  call->held.clear();
  call->queued = 0;
  // Request bytes are dropped from now on: whoever waits to send more may go on.
  if (call->stream) call->stream->on_app_request_writable();
  drain(call);
}

void HttpAppChannel::end_stream(AppCall* call, bool trailing_garbage) {
  // Reused only when the next request cannot be mistaken for the rest of this one: the answer
  // is framed and complete, and the whole request had left for the app before it ended (an
  // app that answers early may never read the rest).
  const bool request_sent = call->request_complete() && call->held.empty() && call->queued == 0;
  const bool reuse = call->keep_alive && call->body_kind != http1::BodyKind::kUntilClose &&
                     !trailing_garbage && request_sent && !call->conn_lost;
  AppStreamCompletion* done = call->stream;
  call->stream = nullptr;
  call->finished = true;
  call->stash.release();
  detach(call, reuse);
  svc_->deferred->release(call);  // our frames may still be using it: freed at turn end
  if (done) done->on_app_response_end();
}

void HttpAppChannel::fail_stream(AppCall* call, int grpc_code, std::string_view message) {
  AppStreamCompletion* done = call->stream;
  call->stream = nullptr;
  call->finished = true;
  call->stash.release();
  call->held.clear();
  if (call->conn) {
    detach(call, /*reuse=*/false);
  } else {
    unlink_waiting(call);
  }
  shard::ShardCounters::bump(svc_->counters->app_errors);
  svc_->deferred->release(call);  // our frames may still be using it: freed at turn end
  if (done) done->on_app_stream_error(grpc_code, message);
}

void HttpAppChannel::detach(AppCall* call, bool reuse) {
  Conn* conn = call->conn;
  if (!conn) return;
  conn->call = nullptr;
  call->conn = nullptr;
  conn->in.clear();
  if (reuse && !shutting_down_ && !conn->tcp->closing()) {
    conn->tcp->resume_recv();  // idle or not, it must read again (an idle one notices a close)
    serve_waiting(conn);
  } else {
    conn->tcp->close();  // may free conn right away (conn->call is already cleared)
  }
}

}  // namespace ringside::invoke
