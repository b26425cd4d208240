// The streamed invocation of HttpIngressConnection (see http_ingress.h): a request body above
// kStreamThresholdBytes, or chunked, to another app goes out as CallLocalStream while it is still
// arriving, and the answer is written back as it comes.
#include <cstdio>

#include "dataplane/upstream/peer_choice.h"
#include "dataplane/ingress/http/http_hash_key.h"
#include "dataplane/grpc/stream_flow.h"
#include "dataplane/http1/writer.h"
#include "dataplane/ingress/http/http_ingress.h"
#include "dataplane/mapping/invoke_scratch.h"
#include "dataplane/runtime/sidecar_settings.h"

namespace ringside::invoke {
namespace {
constexpr std::string_view kBroadcastUnaryOnlyHttp =
    "the broadcast cluster strategy of this app id serves unary calls only, and this request "
    "body is streamed (chunked, or above 1 MiB): send it with a Content-Length of at most 1 MiB";
}  // namespace

bool HttpIngressConnection::wants_streaming() const {
  switch (head_.body_kind) {
    case http1::BodyKind::kChunked:
      return true;
    case http1::BodyKind::kLength:
      return head_.content_length > kStreamThresholdBytes;
    default:
      return false;
  }
}

bool HttpIngressConnection::begin_stream() {
  // Only a well-formed call to another app streams; everything else (API routes, errors,
  // self-calls) takes the buffered path, which answers it once the body is in.
  InvokeScratch* sc = svc_->scratch;
  InvokeTarget t;
  if (extract_invoke_target(head_, std::span<char>(sc->path, sc->path_size), &t) !=
          TargetError::kNone ||
      t.is_external_url) {
    return false;
  }
  const SidecarSettings& s = *svc_->settings;
  if (t.app_id == s.app_id && (!t.has_namespace || t.app_namespace == s.app_namespace)) return false;
  target_.clear();
  if (!target_.append(t.app_id)) return false;
  if (cluster_strategy(svc_, t.app_id) == snapshot::ClusterStrategy::kBroadcast) {
    // A broadcast sends one buffered request to every instance; a streamed body cannot be
    // (it is never whole here). Answered before any byte reaches an app; the body is not read.
    shard::ShardCounters::bump(svc_->counters->invoke_requests);
    shard::ShardCounters::bump(svc_->counters->broadcast_rejected);
    keep_alive_ = false;
    state_ = State::kBusy;
    respond_invoke_error(400, kBroadcastUnaryOnlyHttp);
    finish_request();
    return true;
  }
  codec::InternalInvokeRequestFields fields;
  if (!build_request_fields(t, /*self_call=*/false, {}, &fields)) return false;  // buffered path answers 431

  body_at_ = head_.head_size;
  body_sent_ = 0;
  body_dropped_ = 0;
  stream_replayable_ = true;
  state_ = State::kStream;
  stream_call_.set_hash_key(http_hash_key(svc_, t.app_id, t.app_namespace, head_));
  switch (stream_call_.start(t.app_id, t.app_namespace, fields, this)) {
    case StreamingInvocation::Start::kUnaryOnly:
      state_ = State::kBody;  // an old peer: collect the body, then CallLocal
      return false;
    case StreamingInvocation::Start::kFailed:
      return true;  // on_stream_error() answered
    case StreamingInvocation::Start::kUnknownApp:
      // Wait for the lookup with the body unread, so it can still go either way.
      if (lookup_deadline_ == 0) {
        lookup_deadline_ = shard::monotonic_ns() + s.lookup_wait_ns;
        shard::ShardCounters::bump(svc_->counters->calls_parked);
      }
      state_ = State::kLookup;
      tcp_->pause_recv();
      svc_->parked->park(this, lookup_deadline_);
      return true;
    case StreamingInvocation::Start::kStarted:
      break;
  }
  shard::ShardCounters::bump(svc_->counters->invoke_requests);
  shard::ShardCounters::bump(svc_->counters->invoke_streamed);
  if (head_.expect_continue && in_.size() == head_.head_size) {
    // The client waits for this before it sends the body (curl does for large uploads).
    if (!tcp_->out().append("HTTP/1.1 100 Continue\r\n\r\n")) {
      fail_request_body(500);
      return true;
    }
    tcp_->flush();
  }
  pump_request_body();
  return true;
}

void HttpIngressConnection::pump_request_body() {
  // Queueing a piece may report the stream writable right away (on_stream_request_writable):
  // that nested call must not send the same bytes again; this loop goes on by itself.
  if (state_ != State::kStream || !tcp_ || in_pump_) return;
  in_pump_ = true;
  pump_request_body_once();
  in_pump_ = false;
}

void HttpIngressConnection::pump_request_body_once() {
  uint8_t* region = in_.data() + body_at_;
  const size_t len = in_.size() - body_at_;
  uint64_t available;    // payload bytes in region[0, available)
  size_t body_end = 0;   // when complete: region bytes the body occupies
  bool complete;
  if (head_.body_kind == http1::BodyKind::kChunked) {
    const uint64_t max = svc_->settings->max_body_size;
    auto st = chunked_.decode(region, len, max - std::min(max, body_dropped_));
    if (st == http1::ParseStatus::kError) {
      fail_request_body(chunked_.error_status() == 413 ? 413 : 400);
      return;
    }
    available = chunked_.payload_size();
    complete = st == http1::ParseStatus::kComplete;
    body_end = chunked_.consumed();
  } else {
    const uint64_t left = head_.content_length - body_dropped_;
    available = std::min<uint64_t>(len, left);
    complete = available == left;
    body_end = static_cast<size_t>(available);
  }
  // Hand on what is new while the peer's queue has room; else stop reading the client until
  // on_stream_request_writable().
  const uint64_t rounds = available - body_sent_;
  for (uint64_t round = 0; body_sent_ < available && round <= rounds; ++round) {
    if (stream_call_.queued() >= grpc::kStreamHighWatermark) {
      tcp_->pause_recv();
      svc_->timers.cancel(&read_timer_);  // the peer's pace now, not the client's (issue 10)
      return;
    }
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(available - body_sent_, StreamingInvocation::kPayloadBytes));
    std::string_view piece(reinterpret_cast<const char*>(region) + body_sent_, n);
    if (!stream_call_.send_body(piece)) return;  // on_stream_error() answered
    body_sent_ += n;
  }
  if (complete) {
    svc_->timers.cancel(&read_timer_);  // the body is in: nothing more is owed by the client
    request_size_ = body_at_ + body_end;
    state_ = State::kBusy;
    stream_call_.end_body();  // on failure on_stream_error() answers
    return;
  }
  if (body_sent_ > 0 && in_.size() > kReplayKeepBytes) {
    // Drop the head and the payload handed on: memory stays at a window, not the body. From
    // here the request cannot be replayed as unary CallLocal.
    stream_replayable_ = false;
    in_.consume(body_at_ + body_sent_);
    if (head_.body_kind == http1::BodyKind::kChunked) chunked_.discard_payload(body_sent_);
    body_dropped_ += body_sent_;
    body_sent_ = 0;
    body_at_ = 0;
  }
  // Issue 10: more body bytes are owed by the client: --http-body-timeout without progress
  // ends the streamed call (on_read_deadline: cancelled toward the peer, 408 or close).
  arm_body_deadline();
}

void HttpIngressConnection::on_stream_request_writable() {
  if (state_ != State::kStream || !tcp_) return;
  tcp_->resume_recv();
  pump_request_body();
}

void HttpIngressConnection::fail_request_body(int status) {
  stream_call_.cancel();
  keep_alive_ = false;
  if (response_started_) {
    tcp_->close();
    return;
  }
  state_ = State::kBusy;
  if (status == 413) {
    respond_dapr_error(413, "ERR_BODY_TOO_LARGE",
                       "request body exceeds the max body size (--max-body-size)");
    finish_request();
  } else {
    fail_protocol(status);
  }
}

void HttpIngressConnection::on_stream_response_head(const codec::InternalInvokeResponseView& r) {
  response_started_ = true;
  bool body_follows = false;
  // The answer may begin while the request body still streams in (an app that echoes as it
  // reads). The connection is kept if the body is all in by the time the answer ends; if it
  // is not, on_stream_response_end closes it after the answer (a complete chunked answer then
  // a close is valid HTTP/1.1), so no "Connection: close" is promised here.
  if (!write_invoke_head(r, /*stream_body=*/true, {}, &body_follows)) {
    stream_call_.cancel();
    tcp_->close();
    return;
  }
  response_body_ = body_follows;
  response_chunked_ = body_follows && head_minor_version_ >= 1;
  tcp_->flush();
}

void HttpIngressConnection::on_stream_response_body(std::string_view bytes) {
  if (!response_body_) return;  // HEAD, 204, a gRPC error status: the bytes are not shown
  mem::Buffer& out = tcp_->out();
  bool ok = true;
  if (response_chunked_) {
    char size[24];
    int n = snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    ok = out.append(size, static_cast<size_t>(n));
  }
  ok = ok && out.append(bytes) && (!response_chunked_ || out.append("\r\n"));
  if (!ok) {
    stream_call_.cancel();
    tcp_->close();
    return;
  }
  tcp_->flush();
  if (tcp_->queued_bytes() >= grpc::kStreamHighWatermark && !response_paused_) {
    response_paused_ = true;  // on_drained() resumes
    stream_call_.pause_response();
  }
}

void HttpIngressConnection::on_stream_response_end() {
  if (response_chunked_ && !tcp_->out().append("0\r\n\r\n")) {
    tcp_->close();
    return;
  }
  if (state_ == State::kStream) keep_alive_ = false;  // answered before the body was all sent
  end_streamed_request();
}

void HttpIngressConnection::on_stream_error(int grpc_code, std::string_view error_text) {
  if (response_started_) {
    // Too late for a status: cut the connection so the client sees an incomplete answer
    // (no final chunk) rather than a short one that looks whole.
    tcp_->close();
    return;
  }
  if (state_ == State::kStream) keep_alive_ = false;
  respond_invoke_error(grpc_code == 7 ? 403 : 500, error_text);
  end_streamed_request();
}

void HttpIngressConnection::on_table_changed() {
  if (state_ != State::kLookup || !tcp_) return;
  state_ = State::kBody;
  tcp_->resume_recv();
  if (begin_stream()) return;  // streaming, answered, or waiting again
  if (!in_process_) process();  // the buffered path (e.g. a self-call)
}

void HttpIngressConnection::on_park_timeout() {
  if (state_ != State::kLookup || !tcp_) return;
  state_ = State::kStream;  // the body was never read: the answer closes the connection
  on_stream_error(-1, "no host found with the given ID");
}

void HttpIngressConnection::on_stream_unimplemented() {
  if (stream_replayable_ && state_ == State::kStream) {
    // An old daprd peer: the whole request is still in in_ (nothing was dropped), so it goes
    // again as unary CallLocal once its body is complete (spec §2.3).
    state_ = State::kBody;
    tcp_->resume_recv();
    if (!in_process_) process();
    return;
  }
  if (stream_replayable_ && state_ == State::kBusy) {
    state_ = State::kBody;  // the body is complete and still here
    tcp_->resume_recv();
    if (!in_process_) process();
    return;
  }
  char* msg = svc_->scratch->text;
  std::string_view id = target_id();
  int n = snprintf(msg, sizeof svc_->scratch->text,
                   "target app '%.*s' is running a version of Dapr that does not support "
                   "streaming-based service invocation",
                   static_cast<int>(id.size()), id.data());
  // respond_invoke_error formats into the same scratch: copy the text out first.
  char text[512];
  size_t len = std::min<size_t>(n > 0 ? static_cast<size_t>(n) : 0, sizeof text - 1);
  std::memcpy(text, msg, len);
  on_stream_error(12, std::string_view(text, len));
}

void HttpIngressConnection::end_streamed_request() {
  if (!tcp_) return;
  tcp_->flush();
  if (state_ == State::kStream) state_ = State::kBusy;
  finish_request();
}

}  // namespace ringside::invoke
