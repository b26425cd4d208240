#include "dataplane/grpc/client_connection.h"

#include <cstring>

#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/header_store.h"
#include "dataplane/grpc/message_encoding.h"
#include "dataplane/grpc/status.h"
#include "dataplane/grpc/timeout.h"

namespace ringside::grpc {

namespace {

constexpr int kUnavailable = static_cast<int>(StatusCode::kUnavailable);
constexpr int kInternal = static_cast<int>(StatusCode::kInternal);
constexpr int kDeadlineExceeded = static_cast<int>(StatusCode::kDeadlineExceeded);
// Stream ids are 31 bits; a client's are odd. Past this the connection takes no new calls.
constexpr int32_t kLastClientStreamId = 0x7ffffffd;

}  // namespace

struct GrpcClientConnection::Call {
  explicit Call(mem::ShardPool* pool, uint32_t max_message)
      : headers(pool), trailers(pool), reader(pool, max_message), decoded(pool), q(pool) {}
  // The outcome is known or nobody wants it: no callback for this call any more.
  bool done() const { return completed || cancelled; }

  Call* prev = nullptr;            // calls_ links (newer call)
  Call* next = nullptr;            // calls_ links (older call)
  int32_t stream_id = 0;           // HTTP/2 stream (assigned at submit)
  void* user = nullptr;            // caller's cookie for on_unary_complete
  int64_t deadline_ns = 0;         // expire_calls() ends the call from then on; 0 = never
  std::string_view request;        // caller's unframed request bytes ...
  mem::BufferSlice tail;           // ... followed by these (start_unary)
  uint8_t prefix[kMessagePrefixSize] = {};  // their length prefix
  size_t sent = 0;                 // bytes of prefix+request+tail handed to nghttp2
  HeaderStore headers;             // response headers
  HeaderStore trailers;            // trailers (+ raw grpc-message bytes)
  UnaryMessageReader reader;       // response message reassembly
  mem::Buffer decoded;             // percent-decoded grpc-message
  int http_status = 0;             // ":status"
  int grpc_status = 0;             // grpc-status, when has_grpc_status
  bool has_grpc_status = false;    // grpc-status seen (trailers or trailers-only)
  bool bad_grpc_status = false;    // grpc-status present but not a number
  uint32_t msg_off = 0, msg_len = 0;  // raw grpc-message inside trailers' byte store
  uint32_t header_bytes = 0;       // RFC 7541 size of received header lists
  bool headers_sent = false;       // our HEADERS frame was serialized
  bool completed = false;          // handler already called
  bool cancelled = false;          // caller cancelled: never call the handler
  bool streaming = false;          // started with start_stream()
  http2::StreamQueue q;            // stream mode: send_data() queue, held receive window
  bool send_closed = false;        // stream mode: close_send() called (END_STREAM after q)
};

// ---- nghttp2 events ----

int GrpcClientConnection::on_header(const nghttp2_frame& f, std::string_view k,
                                    std::string_view v) {
  if (f.hd.type != NGHTTP2_HEADERS) return 0;
  Call* c = call_of(f.hd.stream_id);
  if (!c || c->done()) return 0;
  if (!header_fits(&c->header_bytes, k, v)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  bool is_response = f.headers.cat == NGHTTP2_HCAT_RESPONSE;
  bool to_trailers = !is_response || (f.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  bool ok = true;
  if (k == ":status") {
    int st = 0;
    if (parse_grpc_status(v, &st)) c->http_status = st;
  } else if (k == "grpc-status") {
    c->has_grpc_status = true;
    c->bad_grpc_status = !parse_grpc_status(v, &c->grpc_status);
  } else if (k == "grpc-message") {
    ok = c->trailers.add_string(v, &c->msg_off);
    c->msg_len = static_cast<uint32_t>(v.size());
  } else if (!is_reserved_header(k)) {
    ok = (to_trailers ? c->trailers : c->headers).add(k, v);
  }
  return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

int GrpcClientConnection::on_data_chunk(int32_t id, std::span<const uint8_t> data) {
  Call* c = call_of(id);
  if (c && c->streaming && !c->done() && c->http_status == 200) {
    hold_window(&c->q, data.size());  // until the caller consume()s what it forwarded
    handler_->on_stream_data(c->user, data);
    return 0;
  }
  // Unary (bounded by max_message_bytes), a non-200 body, or nobody listening: reopen now.
  session_.consume_stream(id, data.size());
  if (!c || c->done() || c->streaming) return 0;
  if (c->reader.feed(data.data(), data.size())) return 0;
  FramingError e = c->reader.error();
  reset_stream(id, NGHTTP2_CANCEL);
  complete_with(c, framing_error_status(e), framing_error_text(e), false, false);
  return 0;
}

int GrpcClientConnection::on_frame_recv(const nghttp2_frame& f) {
  if (f.hd.type == NGHTTP2_SETTINGS && (f.hd.flags & NGHTTP2_FLAG_ACK) == 0) {
    settings_received_ = true;
    // nghttp2 hands unknown settings through unapplied; a later SETTINGS may change the value.
    for (size_t i = 0; i < f.settings.niv; ++i) {
      if (f.settings.iv[i].settings_id == http2::kRingsideShardsSetting) peer_shards_ = f.settings.iv[i].value;
    }
    return 0;
  }
  if (f.hd.type != NGHTTP2_HEADERS && f.hd.type != NGHTTP2_DATA) return 0;
  Call* c = call_of(f.hd.stream_id);
  if (!c || c->done()) return 0;
  if ((f.hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
    // Response headers of a streaming call (a trailers-only answer carries END_STREAM).
    if (c->streaming && f.hd.type == NGHTTP2_HEADERS &&
        f.headers.cat == NGHTTP2_HCAT_RESPONSE && c->http_status == 200) {
      std::span<const Metadata> h;
      if (!c->headers.materialize(&h)) h = {};
      handler_->on_stream_headers(c->user, h);
    }
    return 0;
  }
  stop_sending(f.hd.stream_id);
  complete_from_response(c);
  return 0;
}

int GrpcClientConnection::on_frame_send(const nghttp2_frame& f) {
  if (f.hd.type != NGHTTP2_HEADERS) return 0;
  if (Call* c = call_of(f.hd.stream_id)) c->headers_sent = true;
  return 0;
}

int GrpcClientConnection::on_frame_not_send(const nghttp2_frame& f) {
  if (f.hd.type != NGHTTP2_HEADERS) return 0;
  Call* c = find_call(f.hd.stream_id);
  if (!c) return 0;
  // HEADERS never left (GOAWAY received, cancelled before sending): not processed.
  if (!c->done()) complete_with(c, kUnavailable, "stream not started", true, false);
  if (call_of(f.hd.stream_id) == nullptr) calls_.release(c);
  return 0;
}

int GrpcClientConnection::on_stream_close(int32_t id, uint32_t error_code) {
  Call* c = call_of(id);
  if (!c) return 0;
  nghttp2_session_set_stream_user_data(session_.get(), id, nullptr);
  if (!c->done()) {
    if (error_code == NGHTTP2_REFUSED_STREAM) {
      // Explicit refusal, or the stream lies above a GOAWAY's last-stream-id.
      complete_with(c, kUnavailable, "stream refused by peer", true, false);
    } else {
      complete_with(c, grpc_code_from_h2_error(error_code), "stream reset by peer", false,
                    false);
    }
  }
  calls_.release(c);
  return 0;
}

void GrpcClientConnection::on_writable(uint64_t token) {
  Call* c = lookup(static_cast<int32_t>(token));
  if (c && c->streaming && !c->done()) handler_->on_stream_writable(c->user);
}

// ---- the connection ----

GrpcClientConnection::GrpcClientConnection(mem::ShardPool* pool, ClientHandler* handler,
                                           uint32_t max_message_bytes,
                                           const http2::SessionSettings& settings)
    : http2::Endpoint(pool, http2::Role::kClient, settings),
      handler_(handler),
      max_message_bytes_(max_message_bytes) {}

GrpcClientConnection::~GrpcClientConnection() { on_transport_closed(); }

bool GrpcClientConnection::can_start_call() const {
  if (!session_.alive() || nghttp2_session_check_request_allowed(session_.get()) == 0) {
    return false;
  }
  uint32_t peer_max = nghttp2_session_get_remote_settings(
      session_.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return active_count_ < peer_max;
}

bool GrpcClientConnection::accepts_calls() const {
  return session_.alive() && nghttp2_session_check_request_allowed(session_.get()) != 0 &&
         nghttp2_session_get_next_stream_id(session_.get()) <= static_cast<uint32_t>(kLastClientStreamId);
}

uint32_t GrpcClientConnection::peer_max_streams() const {
  if (!session_.get()) return 0;
  return nghttp2_session_get_remote_settings(session_.get(),
                                             NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

int32_t GrpcClientConnection::submit_call(std::string_view path, std::string_view authority,
                                          std::string_view content_type,
                                          std::span<const Metadata> metadata, int64_t timeout_ns,
                                          Call* c, const nghttp2_data_provider& body) {
  char timeout_text[16];
  size_t timeout_len = timeout_ns > 0 ? format_grpc_timeout(timeout_ns, timeout_text) : 0;
  nv_.clear();
  bool ok = push_nv(":method", "POST") && push_nv(":scheme", "http") && push_nv(":path", path) &&
            push_nv(":authority", authority) && push_nv("content-type", content_type) &&
            push_nv("te", "trailers");
  if (timeout_len) ok = ok && push_nv("grpc-timeout", std::string_view(timeout_text, timeout_len));
  for (const Metadata& m : metadata) {
    if (!is_reserved_header(m.key)) ok = ok && push_nv(m.key, m.value);
  }
  int32_t id = 0;
  if (ok) id = nghttp2_submit_request(session_.get(), nullptr, nv_.data(), nv_.size(), &body, c);
  if (id <= 0) {
    c->cancelled = true;  // never reported: the caller sees the 0 return
    --active_count_;
    calls_.release(c);
    return 0;
  }
  c->stream_id = id;
  return id;
}

int32_t GrpcClientConnection::start_unary(std::string_view path, std::string_view authority,
                                          std::span<const Metadata> metadata, int64_t timeout_ns,
                                          std::string_view message, void* user,
                                          int64_t deadline_ns, mem::BufferSlice tail) {
  if (!session_.alive() || nghttp2_session_check_request_allowed(session_.get()) == 0) return 0;
  if (message.size() > 0xffffffffu || tail.size > 0xffffffffu - message.size()) return 0;
  Call* c = acquire_call();
  if (!c) return 0;
  c->user = user;
  c->deadline_ns = deadline_ns;
  c->request = message;
  c->tail = tail;
  write_message_prefix(static_cast<uint32_t>(message.size() + tail.size), c->prefix);
  return submit_call(path, authority, "application/grpc", metadata, timeout_ns, c,
                     provider<&GrpcClientConnection::read_unary, &GrpcClientConnection::unary_left>(c));
}

int32_t GrpcClientConnection::start_stream(std::string_view path, std::string_view authority,
                                           std::span<const Metadata> metadata, int64_t timeout_ns,
                                           void* user, int64_t deadline_ns) {
  if (!session_.alive() || nghttp2_session_check_request_allowed(session_.get()) == 0) return 0;
  Call* c = acquire_call();
  if (!c) return 0;
  c->user = user;
  c->deadline_ns = deadline_ns;
  c->streaming = true;
  return submit_call(path, authority, "application/grpc+proto", metadata, timeout_ns, c,
                     provider<&GrpcClientConnection::read_stream>(c));
}

size_t GrpcClientConnection::unary_left(const Call* c) {
  return kMessagePrefixSize + c->request.size() + c->tail.size - c->sent;
}

ssize_t GrpcClientConnection::read_unary(Call* c, uint8_t* buf, size_t length, uint32_t* flags) {
  // After completion the caller may have freed the request bytes: never touch them.
  if (c->done()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const size_t head_end = kMessagePrefixSize + c->request.size();
  const size_t total = head_end + c->tail.size;
  size_t n = 0;
  while (n < length && c->sent < total) {
    if (c->sent < kMessagePrefixSize) {
      buf[n++] = c->prefix[c->sent++];
      continue;
    }
    // From the request, then from the tail (its buffer may have moved since the last read:
    // the slice is resolved here, each time).
    const uint8_t* from;
    size_t take;
    if (c->sent < head_end) {
      size_t off = c->sent - kMessagePrefixSize;
      from = reinterpret_cast<const uint8_t*>(c->request.data()) + off;
      take = c->request.size() - off;
    } else {
      size_t off = c->sent - head_end;
      from = c->tail.data() + off;
      take = c->tail.size - off;
    }
    if (take > length - n) take = length - n;
    std::memcpy(buf + n, from, take);
    n += take;
    c->sent += take;
  }
  if (c->sent == total) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

// Stream mode: drains c->q; DEFERRED while empty and not half-closed (send_data and
// close_send resume it), EOF with END_STREAM after close_send().
ssize_t GrpcClientConnection::read_stream(Call* c, uint8_t* buf, size_t length,
                                          uint32_t* flags) {
  if (c->done()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  bool at_end = false;
  ssize_t n = read_queue(&c->q, static_cast<uint64_t>(c->stream_id), true, c->send_closed, buf,
                         length, &at_end);
  if (at_end) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return n;
}

GrpcClientConnection::Call* GrpcClientConnection::call_of(int32_t stream_id) const {
  return static_cast<Call*>(stream_user_data(stream_id));
}

GrpcClientConnection::Call* GrpcClientConnection::lookup(int32_t stream_id) const {
  if (stream_id <= 0) return nullptr;
  if (Call* c = call_of(stream_id)) return c;
  return find_call(stream_id);  // HEADERS not sent yet: nghttp2 has no stream object
}

GrpcClientConnection::Call* GrpcClientConnection::find_call(int32_t stream_id) const {
  // Linear, but only used for cancel() and frames that were never sent.
  for (Call* c = calls_.first(); c; c = c->next) {
    if (c->stream_id == stream_id) return c;
  }
  return nullptr;
}

void GrpcClientConnection::stop_sending(int32_t stream_id) {
  if (nghttp2_session_get_stream_local_close(session_.get(), stream_id) == 0) {
    reset_stream(stream_id, NGHTTP2_CANCEL);
  }
}

bool GrpcClientConnection::send_data(int32_t stream_id, std::span<const uint8_t> bytes) {
  Call* c = lookup(stream_id);
  if (!c || !c->streaming || c->done() || c->send_closed) return false;
  if (!session_.alive()) return false;
  return queue_send(&c->q, stream_id, bytes);
}

size_t GrpcClientConnection::queued_bytes(int32_t stream_id) const {
  Call* c = lookup(stream_id);
  return c ? c->q.size() : 0;
}

bool GrpcClientConnection::close_send(int32_t stream_id) {
  Call* c = lookup(stream_id);
  if (!c || !c->streaming || c->done() || c->send_closed) return false;
  c->send_closed = true;
  if (session_.alive()) resume(&c->q, stream_id);
  return true;
}

void GrpcClientConnection::consume(int32_t stream_id, size_t n) {
  Call* c = lookup(stream_id);
  if (!c || !c->streaming) return;
  consume_queue(&c->q, stream_id, n);
}

void GrpcClientConnection::cancel(int32_t stream_id) {
  Call* c = lookup(stream_id);
  if (!c || c->done()) return;
  c->cancelled = true;
  --active_count_;
  if (session_.alive()) reset_stream(stream_id, NGHTTP2_CANCEL);
}

int64_t GrpcClientConnection::expire_calls(int64_t now, size_t* expired) {
  size_t n = 0;
  for (;;) {
    // Rescan from the start after each completion: the handler may start, cancel or (through
    // a flush) recycle calls. Expiries are rare; the scan is over calls in flight.
    Call* due = nullptr;
    int64_t next = 0;
    for (Call* c = calls_.first(); c; c = c->next) {
      if (c->done() || c->deadline_ns == 0) continue;
      if (c->deadline_ns <= now) {
        due = c;
        break;
      }
      if (next == 0 || c->deadline_ns < next) next = c->deadline_ns;
    }
    if (!due) {
      if (expired) *expired = n;
      return next;
    }
    ++n;
    // RST_STREAM(CANCEL) tells the peer to stop (a Go server cancels the handler's context);
    // a call still waiting for a stream is dropped from nghttp2's queue instead.
    if (session_.alive()) reset_stream(due->stream_id, NGHTTP2_CANCEL);
    complete_with(due, kDeadlineExceeded, "context deadline exceeded", false, false);
  }
}

void GrpcClientConnection::on_transport_closed(std::string_view reason) {
  // Free nghttp2 first: no callback may run on a call recycled below.
  end_session();
  while (Call* c = calls_.first()) {
    if (!c->done()) complete_with(c, kUnavailable, reason, !c->headers_sent, true);
    calls_.release(c);
  }
}

GrpcClientConnection::Call* GrpcClientConnection::acquire_call() {
  Call* c = calls_.acquire(pool_, max_message_bytes_);
  if (c) ++active_count_;
  return c;
}

void GrpcClientConnection::complete_from_response(Call* c) {
  int status;
  std::string_view text = c->trailers.string_at(c->msg_off, c->msg_len);
  bool decode = true;
  if (c->has_grpc_status && !c->bad_grpc_status) {
    status = c->grpc_status;
    // Streaming calls pass bytes through: message framing is the application's business.
    if (status == 0 && !c->streaming && !c->reader.finish()) {
      status = kInternal;
      text = framing_error_text(c->reader.error());
      decode = false;
    }
  } else if (c->has_grpc_status) {
    status = kInternal;
    text = "malformed grpc-status";
    decode = false;
  } else if (c->http_status != 200) {
    status = grpc_code_from_transport_http(c->http_status);
    text = "unexpected HTTP status";
    decode = false;
  } else {
    status = kInternal;
    text = "response without grpc-status";
    decode = false;
  }
  if (decode && !text.empty()) {
    c->decoded.clear();
    if (c->decoded.reserve(text.size())) {
      size_t n = percent_decode(text, reinterpret_cast<char*>(c->decoded.tail()),
                                c->decoded.tail_room());
      c->decoded.commit(n);
      text = c->decoded.view();
    }
  }
  complete_with(c, status, text, false, false);
}

void GrpcClientConnection::complete_with(Call* c, int grpc_status, std::string_view message,
                                         bool not_processed, bool transport_error) {
  c->completed = true;
  --active_count_;
  if (c->streaming) {
    std::span<const Metadata> t;
    if (!c->trailers.materialize(&t)) t = {};
    handler_->on_stream_end(c->user, grpc_status, message, t, transport_error, not_processed);
    return;
  }
  UnaryResult r;
  r.grpc_status = grpc_status;
  r.grpc_message = message;
  r.message = c->reader.complete() ? c->reader.message() : std::string_view();
  if (!c->headers.materialize(&r.headers)) r.headers = {};
  if (!c->trailers.materialize(&r.trailers)) r.trailers = {};
  r.not_processed = not_processed;
  r.transport_error = transport_error;
  handler_->on_unary_complete(c->user, r);
}

}  // namespace ringside::grpc
