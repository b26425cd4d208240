#include "dataplane/grpc/server_connection.h"

#include <atomic>
#include <cstring>

#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/header_store.h"
#include "dataplane/grpc/message_encoding.h"
#include "dataplane/grpc/status.h"
#include "dataplane/grpc/timeout.h"
#include "dataplane/runtime/timer_list.h"  // monotonic_ns (issue 10 header timeout)

namespace ringside::grpc {

namespace {

std::atomic<uint32_t> g_next_generation{1};

// "application/grpc", "application/grpc+proto", "application/grpc;..." (gRPC spec).
bool is_grpc_content_type(std::string_view v) {
  constexpr std::string_view kBase = "application/grpc";
  if (v.substr(0, kBase.size()) != kBase) return false;
  return v.size() == kBase.size() || v[kBase.size()] == '+' || v[kBase.size()] == ';';
}

}  // namespace

// Life of a call:  kReceiving → kDispatched → kResponding → (stream closes → recycled)
//                  kReceiving → kRejected (framework answered) → (stream closes)
//   stream mode:   kReceiving → kStreaming → kStreamEnding (send_trailers) → (stream closes)
//   any open call: → kCancelled (handler's cancel()) → (stream closes)
struct GrpcServerConnection::Call {
  enum class State : uint8_t {
    kReceiving, kDispatched, kResponding, kRejected, kStreaming, kStreamEnding, kCancelled
  };

  explicit Call(mem::ShardPool* pool, uint32_t max_message)
      : headers(pool), reader(pool, max_message), q(pool), trailers(pool) {}

  Call* prev = nullptr;              // calls_ links (newer call)
  Call* next = nullptr;              // calls_ links (older call)
  CallId id = 0;                     // generation << 32 | stream id
  int32_t stream_id = 0;             // HTTP/2 stream
  State state = State::kReceiving;   // see above
  bool is_post = false;              // :method was POST
  bool content_type_ok = false;      // content-type is application/grpc[+...]
  bool bad_timeout = false;          // grpc-timeout present but malformed
  bool remote_closed = false;        // peer sent END_STREAM
  uint32_t header_bytes = 0;         // RFC 7541 size of the request header list so far
  int64_t timeout_ns = 0;            // parsed grpc-timeout
  uint32_t path_off = 0, path_len = 0;   // :path inside headers' byte store
  uint32_t auth_off = 0, auth_len = 0;   // :authority inside headers' byte store
  HeaderStore headers;               // request metadata (+ path/authority bytes)
  UnaryMessageReader reader;         // request message reassembly
  http2::StreamQueue q;              // outbound bytes (unary: prefix + message), held window
  HeaderStore trailers;              // response trailers waiting for the end of DATA
  CallMode mode = CallMode::kUnary;  // what classify() said
  bool resp_headers_sent = false;    // stream mode: response HEADERS submitted
  bool trailers_pending = false;     // stream mode: submit trailers once q is empty
  void* host_data = nullptr;         // the handler's object for this call (set_host_data)
  mem::Buffer body;                  // unary: an adopted body's buffer, sent after q ...
  size_t body_offset = 0;            // ... its bytes from body.data() ...
  size_t body_size = 0;              // ... their count (0: none) ...
  size_t body_sent = 0;              // ... and how many nghttp2 has read
};

// ---- nghttp2 events ----

int GrpcServerConnection::on_begin_headers(const nghttp2_frame& f) {
  // One timestamp per header block (not per frame): a HEADERS whose CONTINUATION never comes
  // is found by the connection's header timeout (issue 10).
  if (f.hd.type == NGHTTP2_HEADERS) header_block_since_ns_ = shard::monotonic_ns();
  if (f.hd.type != NGHTTP2_HEADERS || f.headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Call* c = acquire_call(f.hd.stream_id);
  if (!c) {
    header_block_since_ns_ = 0;  // nghttp2 skips the block and resets the stream
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // no memory: reset this stream
  }
  nghttp2_session_set_stream_user_data(session_.get(), f.hd.stream_id, c);
  return 0;
}

int GrpcServerConnection::on_header(const nghttp2_frame& f, std::string_view k,
                                    std::string_view v) {
  if (f.hd.type != NGHTTP2_HEADERS || f.headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Call* c = call_of(f.hd.stream_id);
  if (!c) return 0;
  if (!header_fits(&c->header_bytes, k, v)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  bool ok = true;
  if (k == ":method") {
    c->is_post = v == "POST";
  } else if (k == ":path") {
    ok = c->headers.add_string(v, &c->path_off);
    c->path_len = static_cast<uint32_t>(v.size());
  } else if (k == ":authority" || (k == "host" && c->auth_len == 0)) {
    ok = c->headers.add_string(v, &c->auth_off);
    c->auth_len = static_cast<uint32_t>(v.size());
  } else if (k == "content-type") {
    c->content_type_ok = is_grpc_content_type(v);
  } else if (k == "grpc-timeout") {
    int64_t ns = 0;
    if (!parse_grpc_timeout(v, &ns)) {
      c->bad_timeout = true;
    } else {
      c->timeout_ns = ns > 0 ? ns : 1;  // "0n" is an expired deadline, not "no deadline"
    }
  } else if (!is_reserved_header(k)) {
    ok = c->headers.add(k, v);
  }
  return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

int GrpcServerConnection::on_data_chunk(int32_t stream_id, std::span<const uint8_t> data) {
  Call* c = call_of(stream_id);
  if (c && c->state == Call::State::kStreaming) {
    hold_window(&c->q, data.size());  // until the handler consume()s what it forwarded
    handler_->on_stream_data(c->id, data);
    return 0;
  }
  // Unary (bounded by max_message_bytes) or nobody listening: reopen now.
  session_.consume_stream(stream_id, data.size());
  if (!c || c->state != Call::State::kReceiving) return 0;
  if (!c->reader.feed(data.data(), data.size())) reject_framing(c);
  return 0;
}

int GrpcServerConnection::on_frame_recv(const nghttp2_frame& f) {
  ++frames_received_;  // issue 10: activity for the idle limit
  if (f.hd.type == NGHTTP2_HEADERS) header_block_since_ns_ = 0;  // END_HEADERS reached
  if (f.hd.type == NGHTTP2_SETTINGS && !(f.hd.flags & NGHTTP2_FLAG_ACK)) {
    peer_settings_received_ = true;
  }
  if (f.hd.type == NGHTTP2_PING && (f.hd.flags & NGHTTP2_FLAG_ACK) && shutting_down_ &&
      std::memcmp(f.ping.opaque_data, http2::Session::kDrainPing, 8) == 0) {
    session_.shutdown();  // the peer saw the notice: name the last stream we got
    return 0;
  }
  if (f.hd.type != NGHTTP2_HEADERS && f.hd.type != NGHTTP2_DATA) return 0;
  Call* c = call_of(f.hd.stream_id);
  if (!c) return 0;
  if (f.hd.type == NGHTTP2_HEADERS && f.headers.cat == NGHTTP2_HCAT_REQUEST) {
    if (!c->is_post) {
      reject_http(c, 405);
    } else if (!c->content_type_ok) {
      reject_http(c, 415);
    } else if (c->bad_timeout) {
      reject_grpc(c, static_cast<int>(StatusCode::kInternal), "malformed grpc-timeout");
    } else {
      start_stream(c);
    }
  }
  if ((f.hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  c->remote_closed = true;
  if (c->mode == CallMode::kStream) {
    if (c->state == Call::State::kStreaming) handler_->on_stream_half_close(c->id);
    return 0;
  }
  if (c->state != Call::State::kReceiving) return 0;
  if (!c->reader.finish()) {
    reject_framing(c);
    return 0;
  }
  dispatch(c);
  return 0;
}

int GrpcServerConnection::on_frame_send(const nghttp2_frame& f) {
  if (f.hd.type != NGHTTP2_HEADERS && f.hd.type != NGHTTP2_DATA) return 0;
  if ((f.hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  Call* c = call_of(f.hd.stream_id);
  // Our answer is complete but the client is still sending (early error): stop it.
  if (c && !c->remote_closed) reset_stream(f.hd.stream_id, NGHTTP2_NO_ERROR);
  return 0;
}

int GrpcServerConnection::on_stream_close(int32_t stream_id, uint32_t) {
  header_block_since_ns_ = 0;  // a reset stream's header block is abandoned (issue 10)
  Call* c = call_of(stream_id);
  if (!c) return 0;
  nghttp2_session_set_stream_user_data(session_.get(), stream_id, nullptr);
  CallId id = c->id;
  bool was_pending = c->state == Call::State::kDispatched || c->state == Call::State::kStreaming;
  calls_.release(c);
  if (was_pending) handler_->on_call_cancelled(id);
  return 0;
}

void GrpcServerConnection::on_writable(uint64_t token) {
  Call* c = find(token);
  if (c && c->state == Call::State::kStreaming) handler_->on_stream_writable(c->id);
}

// ---- the connection ----

GrpcServerConnection::GrpcServerConnection(mem::ShardPool* pool, ServerHandler* handler,
                                           uint32_t max_message_bytes,
                                           const http2::SessionSettings& settings)
    : http2::Endpoint(pool, http2::Role::kServer, settings),
      handler_(handler),
      max_message_bytes_(max_message_bytes),
      generation_(g_next_generation.fetch_add(1, std::memory_order_relaxed)) {}

GrpcServerConnection::~GrpcServerConnection() { on_transport_closed(); }

void GrpcServerConnection::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  session_.shutdown_notice();
}

void GrpcServerConnection::on_transport_closed() {
  // Free nghttp2 first so no callback can see a recycled call.
  end_session();
  while (Call* c = calls_.first()) {
    CallId id = c->id;
    bool was_pending =
        c->state == Call::State::kDispatched || c->state == Call::State::kStreaming;
    calls_.release(c);
    if (was_pending) handler_->on_call_cancelled(id);
  }
}

GrpcServerConnection::Call* GrpcServerConnection::acquire_call(int32_t stream_id) {
  Call* c = calls_.acquire(pool_, max_message_bytes_);
  if (!c) return nullptr;
  c->id = CallId{generation_} << 32 | static_cast<uint32_t>(stream_id);
  c->stream_id = stream_id;
  c->host_data = nullptr;  // a recycled block may carry the previous call's
  return c;
}

void GrpcServerConnection::set_host_data(CallId id, void* data) {
  if (Call* c = find(id)) c->host_data = data;
}

void* GrpcServerConnection::host_data(CallId id) const {
  Call* c = find(id);
  return c ? c->host_data : nullptr;
}

void GrpcServerConnection::dispatch(Call* c) {
  c->state = Call::State::kDispatched;
  UnaryRequest req;
  req.id = c->id;
  req.path = c->headers.string_at(c->path_off, c->path_len);
  req.authority = c->headers.string_at(c->auth_off, c->auth_len);
  if (!c->headers.materialize(&req.metadata)) {
    reject_grpc(c, static_cast<int>(StatusCode::kResourceExhausted), "out of memory");
    return;
  }
  req.timeout_ns = c->timeout_ns;
  req.message = c->reader.message();
  handler_->on_unary_request(req);
}

void GrpcServerConnection::reject_framing(Call* c) {
  FramingError e = c->reader.error();
  reject_grpc(c, framing_error_status(e), framing_error_text(e));
}

void GrpcServerConnection::reject_http(Call* c, int http_status) {
  c->state = Call::State::kRejected;
  char digits[12];
  size_t n = format_grpc_status(http_status, digits);
  nv_.clear();
  if (!push_nv(":status", std::string_view(digits, n)) || !submit_response(c->stream_id, nullptr)) {
    reset_stream(c->stream_id, NGHTTP2_INTERNAL_ERROR);
  }
}

void GrpcServerConnection::reject_grpc(Call* c, int grpc_status, std::string_view message) {
  c->state = Call::State::kDispatched;  // respond() accepts only dispatched calls
  CallId id = c->id;
  respond(id, {}, {}, grpc_status, message, {});
  c->state = Call::State::kRejected;
}

bool GrpcServerConnection::respond(CallId id, std::span<const Metadata> headers,
                                   std::string_view message, int grpc_status,
                                   std::string_view grpc_message,
                                   std::span<const Metadata> trailers, AdoptedBody body) {
  if (!session_.alive() || (id >> 32) != generation_) return false;
  auto stream_id = static_cast<int32_t>(id & 0x7fffffff);
  Call* c = call_of(stream_id);
  if (!c || c->id != id || c->state != Call::State::kDispatched) return false;
  c->state = Call::State::kResponding;

  char status_digits[12];
  std::string_view status_text(status_digits, format_grpc_status(grpc_status, status_digits));
  size_t encoded_size = percent_encoded_size(grpc_message);
  // An error without a message has no DATA. With headers to send it is HEADERS then trailers
  // (daprd puts e.g. dapr-http-status in the initial metadata), else trailers-only.
  bool no_message = grpc_status != 0 && message.empty() && body.size == 0;
  bool trailers_only = no_message && headers.empty();

  nv_.clear();
  bool ok = push_nv(":status", "200") && push_nv("content-type", "application/grpc");
  for (const Metadata& m : headers) ok = ok && push_nv(m.key, m.value);

  if (trailers_only) {
    // Encoded grpc-message in scratch_ (reserved first so the view stays put).
    scratch_.clear();
    ok = ok && scratch_.reserve(encoded_size);
    std::string_view encoded;
    if (ok) {
      size_t n = percent_encode(grpc_message, reinterpret_cast<char*>(scratch_.tail()),
                                scratch_.tail_room());
      encoded = std::string_view(reinterpret_cast<const char*>(scratch_.tail()), n);
    }
    ok = ok && push_nv("grpc-status", status_text);
    if (!grpc_message.empty()) ok = ok && push_nv("grpc-message", encoded);
    for (const Metadata& m : trailers) ok = ok && push_nv(m.key, m.value);
    if (ok && submit_response(stream_id, nullptr)) return true;
    reset_stream(stream_id, NGHTTP2_INTERNAL_ERROR);
    return false;
  }

  // Body: prefix + message copied, so the caller's bytes are free right after respond(); an
  // adopted body stays in its buffer, which the call now owns.
  if (message.size() > 0xffffffffu || body.size > 0xffffffffu - message.size()) ok = false;
  uint8_t prefix[kMessagePrefixSize];
  write_message_prefix(static_cast<uint32_t>(message.size() + body.size), prefix);
  mem::Buffer& out = c->q.out;
  out.clear();
  if (!no_message) {
    ok = ok && out.reserve(kMessagePrefixSize + message.size()) &&
         out.append(prefix, kMessagePrefixSize) && out.append(message);
  }
  if (ok && body.size) {
    c->body = static_cast<mem::Buffer&&>(*body.owner);
    c->body_offset = body.offset;
    c->body_size = body.size;
    c->body_sent = 0;
  }
  // Trailers are sent once the DATA is out; keep copies until then.
  ok = ok && store_trailers(c, grpc_status, grpc_message, trailers);

  nghttp2_data_provider data = provider<&GrpcServerConnection::read_unary, &GrpcServerConnection::unary_left>(c);
  if (ok && submit_response(stream_id, &data)) return true;
  reset_stream(stream_id, NGHTTP2_INTERNAL_ERROR);
  return false;
}

size_t GrpcServerConnection::unary_left(const Call* c) {
  return c->q.out.size() + (c->body_size - c->body_sent);
}

ssize_t GrpcServerConnection::read_unary(Call* c, uint8_t* buf, size_t length, uint32_t* flags) {
  // An error answer has no message: the first read ends the DATA at once.
  if (c->body_size == 0) return drain(c, true, buf, length, flags);
  // Prefix and message head from the queue, then the adopted body from its buffer.
  size_t n = c->q.out.size() < length ? c->q.out.size() : length;
  if (n) std::memcpy(buf, c->q.out.data(), n);
  c->q.out.consume(n);
  size_t take = c->body_size - c->body_sent;
  if (take > length - n) take = length - n;
  if (take) std::memcpy(buf + n, c->body.data() + c->body_offset + c->body_sent, take);
  c->body_sent += take;
  n += take;
  if (c->body_sent < c->body_size) return static_cast<ssize_t>(n);
  c->body.release();  // all read: the block goes back to the pool now, not when the stream closes
  c->body_size = 0;
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  if (!submit_trailers(c)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return static_cast<ssize_t>(n);
}

// Stream mode: drains c->q; DEFERRED while empty and not ended (send_data/send_trailers
// resume it), then EOF without END_STREAM and the trailers.
ssize_t GrpcServerConnection::read_stream(Call* c, uint8_t* buf, size_t length,
                                          uint32_t* flags) {
  if (c->state == Call::State::kCancelled) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return drain(c, c->trailers_pending, buf, length, flags);
}

ssize_t GrpcServerConnection::drain(Call* c, bool closing, uint8_t* buf, size_t length,
                                    uint32_t* flags) {
  bool at_end = false;
  ssize_t n = read_queue(&c->q, c->id, c->state == Call::State::kStreaming, closing, buf, length,
                         &at_end);
  if (!at_end) return n;
  c->trailers_pending = false;
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  if (!submit_trailers(c)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return n;
}

bool GrpcServerConnection::submit_trailers(Call* c) {
  std::span<const Metadata> t;
  if (!c->trailers.materialize(&t)) return false;
  nv_.clear();
  for (const Metadata& m : t) {
    if (!push_nv(m.key, m.value)) return false;
  }
  return nghttp2_submit_trailer(session_.get(), c->stream_id, nv_.data(), nv_.size()) == 0;
}

bool GrpcServerConnection::store_trailers(Call* c, int grpc_status,
                                          std::string_view grpc_message,
                                          std::span<const Metadata> trailers) {
  char digits[12];
  std::string_view status_text(digits, format_grpc_status(grpc_status, digits));
  c->trailers.clear();
  bool ok = c->trailers.add("grpc-status", status_text);
  if (ok && !grpc_message.empty()) {
    scratch_.clear();
    ok = scratch_.reserve(percent_encoded_size(grpc_message));
    if (ok) {
      char* tmp = reinterpret_cast<char*>(scratch_.tail());
      size_t n = percent_encode(grpc_message, tmp, scratch_.tail_room());
      ok = c->trailers.add("grpc-message", std::string_view(tmp, n));
    }
  }
  for (const Metadata& m : trailers) ok = ok && c->trailers.add(m.key, m.value);
  return ok;
}

// ---- stream mode ----

GrpcServerConnection::Call* GrpcServerConnection::call_of(int32_t stream_id) const {
  return static_cast<Call*>(stream_user_data(stream_id));
}

GrpcServerConnection::Call* GrpcServerConnection::find(CallId id) const {
  if ((id >> 32) != generation_) return nullptr;
  Call* c = call_of(static_cast<int32_t>(id & 0x7fffffff));
  return c && c->id == id ? c : nullptr;
}

void GrpcServerConnection::start_stream(Call* c) {
  std::span<const Metadata> md;
  if (!c->headers.materialize(&md)) {
    reject_grpc(c, static_cast<int>(StatusCode::kResourceExhausted), "out of memory");
    return;
  }
  std::string_view path = c->headers.string_at(c->path_off, c->path_len);
  if (handler_->classify(path, md) != CallMode::kStream) return;  // unary: keep collecting
  c->mode = CallMode::kStream;
  c->state = Call::State::kStreaming;
  StreamStart start;
  start.id = c->id;
  start.path = path;
  start.authority = c->headers.string_at(c->auth_off, c->auth_len);
  start.metadata = md;  // c->headers is not added to any more: the views stay valid
  start.timeout_ns = c->timeout_ns;
  handler_->on_stream_start(start);
}

bool GrpcServerConnection::submit_stream_headers(Call* c, std::span<const Metadata> headers) {
  nv_.clear();
  bool ok = push_nv(":status", "200") && push_nv("content-type", "application/grpc");
  for (const Metadata& m : headers) {
    if (!is_reserved_header(m.key)) ok = ok && push_nv(m.key, m.value);
  }
  nghttp2_data_provider data = provider<&GrpcServerConnection::read_stream>(c);
  if (!ok || !submit_response(c->stream_id, &data)) return false;
  c->resp_headers_sent = true;
  return true;
}

bool GrpcServerConnection::send_headers(CallId id, std::span<const Metadata> headers) {
  Call* c = find(id);
  if (!c || c->state != Call::State::kStreaming || c->resp_headers_sent) return false;
  return submit_stream_headers(c, headers);
}

bool GrpcServerConnection::send_data(CallId id, std::span<const uint8_t> bytes) {
  Call* c = find(id);
  if (!c || c->state != Call::State::kStreaming) return false;
  if (!c->q.fits(bytes.size())) return false;
  if (!c->resp_headers_sent && !submit_stream_headers(c, {})) return false;
  return queue_send(&c->q, c->stream_id, bytes);
}

size_t GrpcServerConnection::queued_bytes(CallId id) const {
  Call* c = find(id);
  return c ? c->q.size() : 0;
}

bool GrpcServerConnection::send_trailers(CallId id, int grpc_status,
                                         std::string_view grpc_message,
                                         std::span<const Metadata> trailers) {
  Call* c = find(id);
  if (!c || c->state != Call::State::kStreaming) return false;
  c->state = Call::State::kStreamEnding;
  if (!store_trailers(c, grpc_status, grpc_message, trailers)) {
    reset_stream(c->stream_id, NGHTTP2_INTERNAL_ERROR);
    return false;
  }
  if (c->resp_headers_sent) {
    // After the queued data: the provider sees trailers_pending once q is empty.
    c->trailers_pending = true;
    resume(&c->q, c->stream_id);
    return true;
  }
  // Nothing sent yet: trailers-only response (one HEADERS frame with END_STREAM).
  std::span<const Metadata> t;
  nv_.clear();
  bool ok = c->trailers.materialize(&t) && push_nv(":status", "200") &&
            push_nv("content-type", "application/grpc");
  for (const Metadata& m : t) ok = ok && push_nv(m.key, m.value);
  if (ok && submit_response(c->stream_id, nullptr)) return true;
  reset_stream(c->stream_id, NGHTTP2_INTERNAL_ERROR);
  return false;
}

void GrpcServerConnection::consume(CallId id, size_t n) {
  Call* c = find(id);
  if (!c || c->mode != CallMode::kStream) return;
  consume_queue(&c->q, c->stream_id, n);
}

void GrpcServerConnection::cancel(CallId id, uint32_t h2_error) {
  Call* c = find(id);
  if (!c || c->state == Call::State::kCancelled) return;
  c->state = Call::State::kCancelled;
  if (session_.alive()) reset_stream(c->stream_id, h2_error);
}

}  // namespace ringside::grpc
