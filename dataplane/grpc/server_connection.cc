#include "dataplane/grpc/server_connection.h"

#include <atomic>
#include <cstring>
#include <new>

#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/header_store.h"
#include "dataplane/grpc/message_encoding.h"
#include "dataplane/grpc/status.h"
#include "dataplane/grpc/timeout.h"

namespace ringside::grpc {

namespace {

std::atomic<uint32_t> g_next_generation{1};

std::string_view sv(const uint8_t* p, size_t n) { return {reinterpret_cast<const char*>(p), n}; }

// "application/grpc", "application/grpc+proto", "application/grpc;..." (gRPC spec).
bool is_grpc_content_type(std::string_view v) {
  constexpr std::string_view kBase = "application/grpc";
  if (v.substr(0, kBase.size()) != kBase) return false;
  return v.size() == kBase.size() || v[kBase.size()] == '+' || v[kBase.size()] == ';';
}

// RFC 7541 §4.1 entry size: what the header list limit counts.
constexpr uint32_t kHeaderEntryOverhead = 32;

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
      : headers(pool), reader(pool, max_message), out(pool), trailers(pool) {}

  Call* prev = nullptr;              // active/free list links
  Call* next = nullptr;
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
  mem::Buffer out;                   // response prefix + message waiting to be sent
  HeaderStore trailers;              // response trailers waiting for the end of DATA
  CallMode mode = CallMode::kUnary;  // what classify() said
  bool resp_headers_sent = false;    // stream mode: response HEADERS submitted
  bool data_deferred = false;        // stream mode: provider returned DEFERRED (needs resume)
  bool above_high = false;           // stream mode: queue reached the high watermark
  bool trailers_pending = false;     // stream mode: submit trailers once out is empty
  size_t unconsumed = 0;             // stream mode: received bytes not yet consume()d
};

// nghttp2 callbacks; user_data is the connection.
struct ServerCallbacks {
  static GrpcServerConnection* self(void* ud) { return static_cast<GrpcServerConnection*>(ud); }
  static GrpcServerConnection::Call* call_of(nghttp2_session* s, int32_t stream_id) {
    return static_cast<GrpcServerConnection::Call*>(
        nghttp2_session_get_stream_user_data(s, stream_id));
  }

  static int on_begin_headers(nghttp2_session* s, const nghttp2_frame* f, void* ud) {
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    GrpcServerConnection::Call* c = self(ud)->acquire_call(f->hd.stream_id);
    if (!c) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // no memory: reset this stream
    nghttp2_session_set_stream_user_data(s, f->hd.stream_id, c);
    return 0;
  }

  static int on_header(nghttp2_session* s, const nghttp2_frame* f, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                       void* ud) {
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    GrpcServerConnection::Call* c = call_of(s, f->hd.stream_id);
    if (!c) return 0;
    c->header_bytes += static_cast<uint32_t>(namelen + valuelen) + kHeaderEntryOverhead;
    if (c->header_bytes > self(ud)->settings_.max_header_list_bytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    std::string_view k = sv(name, namelen);
    std::string_view v = sv(value, valuelen);
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

  static int on_data_chunk(nghttp2_session* s, uint8_t, int32_t stream_id, const uint8_t* data,
                           size_t len, void* ud) {
    GrpcServerConnection* conn = self(ud);
    GrpcServerConnection::Call* c = call_of(s, stream_id);
    // The connection window always reopens at once: one slow stream must not stall others.
    conn->session_.consume_connection(len);
    if (c && c->state == GrpcServerConnection::Call::State::kStreaming) {
      // Stream window: held until the handler consume()s what it forwarded.
      c->unconsumed += len;
      conn->handler_->on_stream_data(c->id, std::span<const uint8_t>(data, len));
      return 0;
    }
    // Unary (bounded by max_message_bytes) or nobody listening: reopen now.
    conn->session_.consume_stream(stream_id, len);
    if (!c || c->state != GrpcServerConnection::Call::State::kReceiving) return 0;
    if (!c->reader.feed(data, len)) conn->reject_framing(c);
    return 0;
  }

  static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* f, void* ud) {
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
    GrpcServerConnection* conn = self(ud);
    GrpcServerConnection::Call* c = call_of(s, f->hd.stream_id);
    if (!c) return 0;
    using State = GrpcServerConnection::Call::State;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
      if (!c->is_post) {
        conn->reject_http(c, 405);
      } else if (!c->content_type_ok) {
        conn->reject_http(c, 415);
      } else if (c->bad_timeout) {
        conn->reject_grpc(c, static_cast<int>(StatusCode::kInternal), "malformed grpc-timeout");
      } else {
        conn->start_stream(c);
      }
    }
    if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
    c->remote_closed = true;
    if (c->mode == CallMode::kStream) {
      if (c->state == State::kStreaming) conn->handler_->on_stream_half_close(c->id);
      return 0;
    }
    if (c->state != State::kReceiving) return 0;
    if (!c->reader.finish()) {
      conn->reject_framing(c);
      return 0;
    }
    conn->dispatch(c);
    return 0;
  }

  static int on_frame_send(nghttp2_session* s, const nghttp2_frame* f, void*) {
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
    if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
    GrpcServerConnection::Call* c = call_of(s, f->hd.stream_id);
    // Our answer is complete but the client is still sending (early error): stop it.
    if (c && !c->remote_closed) {
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session* s, int32_t stream_id, uint32_t, void* ud) {
    GrpcServerConnection::Call* c = call_of(s, stream_id);
    if (!c) return 0;
    GrpcServerConnection* conn = self(ud);
    nghttp2_session_set_stream_user_data(s, stream_id, nullptr);
    CallId id = c->id;
    bool was_pending = c->state == GrpcServerConnection::Call::State::kDispatched ||
                       c->state == GrpcServerConnection::Call::State::kStreaming;
    conn->release_call(c);
    if (was_pending) conn->handler_->on_call_cancelled(id);
    return 0;
  }

  static ssize_t read_data(nghttp2_session* s, int32_t stream_id, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source* src, void* ud) {
    auto* c = static_cast<GrpcServerConnection::Call*>(src->ptr);
    size_t n = c->out.size() < length ? c->out.size() : length;
    if (n) std::memcpy(buf, c->out.data(), n);  // an error answer has no message: nothing to copy
    c->out.consume(n);
    if (c->out.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      if (!self(ud)->submit_trailers(c)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return static_cast<ssize_t>(n);
  }

  // Stream mode: drains c->out; DEFERRED while empty and not ended (send_data/send_trailers
  // resume it), then EOF without END_STREAM and the trailers.
  static ssize_t read_stream_data(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                  uint32_t* flags, nghttp2_data_source* src, void* ud) {
    auto* c = static_cast<GrpcServerConnection::Call*>(src->ptr);
    using State = GrpcServerConnection::Call::State;
    if (c->state == State::kCancelled) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    GrpcServerConnection* conn = self(ud);
    size_t n = c->out.size() < length ? c->out.size() : length;
    if (n) std::memcpy(buf, c->out.data(), n);
    c->out.consume(n);
    if (c->above_high && c->out.size() < kStreamLowWatermark) {
      c->above_high = false;
      // Fired from flush_to() after nghttp2 returns (handlers may submit frames).
      if (c->state == State::kStreaming && !conn->writable_ids_.push_back(c->id)) {
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      }
    }
    if (c->out.empty()) {
      if (c->trailers_pending) {
        c->trailers_pending = false;
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        if (!conn->submit_trailers(c)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      } else if (n == 0) {
        c->data_deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
    }
    return static_cast<ssize_t>(n);
  }

  static const nghttp2_session_callbacks* get() {
    static nghttp2_session_callbacks* cbs = [] {
      nghttp2_session_callbacks* c = nullptr;
      nghttp2_session_callbacks_new(&c);
      nghttp2_session_callbacks_set_on_begin_headers_callback(c, on_begin_headers);
      nghttp2_session_callbacks_set_on_header_callback(c, on_header);
      nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, on_data_chunk);
      nghttp2_session_callbacks_set_on_frame_recv_callback(c, on_frame_recv);
      nghttp2_session_callbacks_set_on_frame_send_callback(c, on_frame_send);
      nghttp2_session_callbacks_set_on_stream_close_callback(c, on_stream_close);
      return c;
    }();
    return cbs;
  }
};

GrpcServerConnection::GrpcServerConnection(mem::ShardPool* pool, ServerHandler* handler,
                                           uint32_t max_message_bytes,
                                           const http2::SessionSettings& settings)
    : http2::Endpoint(pool, settings),
      handler_(handler),
      max_message_bytes_(max_message_bytes),
      generation_(g_next_generation.fetch_add(1, std::memory_order_relaxed)),
      nv_(pool),
      scratch_(pool),
      writable_ids_(pool) {}

GrpcServerConnection::~GrpcServerConnection() {
  on_transport_closed();
  while (free_) {
    Call* c = free_;
    free_ = c->next;
    c->~Call();
    pool_->deallocate(c);
  }
}

bool GrpcServerConnection::start() {
  return session_.start(http2::Role::kServer, ServerCallbacks::get(), this, settings_);
}

bool GrpcServerConnection::fire_writable() {
  if (writable_ids_.empty()) return false;
  // Only read callbacks (inside nghttp2_session_mem_send) append, so the list is stable here.
  for (size_t i = 0; i < writable_ids_.size(); ++i) {
    Call* c = find(writable_ids_[i]);
    if (c && c->state == Call::State::kStreaming) handler_->on_stream_writable(c->id);
  }
  writable_ids_.clear();
  return true;
}

void GrpcServerConnection::shutdown() { session_.shutdown(); }

void GrpcServerConnection::on_transport_closed() {
  // Free nghttp2 first so no callback can see a recycled call.
  session_.destroy();
  while (active_) {
    Call* c = active_;
    CallId id = c->id;
    bool was_pending =
        c->state == Call::State::kDispatched || c->state == Call::State::kStreaming;
    release_call(c);
    if (was_pending) handler_->on_call_cancelled(id);
  }
  writable_ids_.clear();
}

GrpcServerConnection::Call* GrpcServerConnection::acquire_call(int32_t stream_id) {
  Call* c = free_;
  if (c) {
    free_ = c->next;
  } else {
    void* p = pool_->allocate(sizeof(Call));
    if (!p) return nullptr;
    c = new (p) Call(pool_, max_message_bytes_);
  }
  c->id = CallId{generation_} << 32 | static_cast<uint32_t>(stream_id);
  c->stream_id = stream_id;
  c->state = Call::State::kReceiving;
  c->is_post = c->content_type_ok = c->bad_timeout = c->remote_closed = false;
  c->header_bytes = 0;
  c->timeout_ns = 0;
  c->path_off = c->path_len = c->auth_off = c->auth_len = 0;
  c->mode = CallMode::kUnary;
  c->resp_headers_sent = c->data_deferred = c->above_high = c->trailers_pending = false;
  c->unconsumed = 0;
  c->prev = nullptr;
  c->next = active_;
  if (active_) active_->prev = c;
  active_ = c;
  ++active_count_;
  return c;
}

void GrpcServerConnection::release_call(Call* c) {
  if (c->prev) c->prev->next = c->next;
  else active_ = c->next;
  if (c->next) c->next->prev = c->prev;
  --active_count_;
  // Storage goes back to the pool (which caches it), so an idle connection holds no bodies.
  c->headers.release();
  c->reader.reset();
  c->out.release();
  c->trailers.release();
  c->prev = nullptr;
  c->next = free_;
  free_ = c;
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

bool GrpcServerConnection::push_nv(std::string_view name, std::string_view value) {
  nghttp2_nv nv;
  nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
  nv.namelen = name.size();
  nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
  nv.valuelen = value.size();
  nv.flags = NGHTTP2_NV_FLAG_NONE;
  return nv_.push_back(nv);
}

void GrpcServerConnection::reject_framing(Call* c) {
  FramingError e = c->reader.error();
  int code = static_cast<int>(StatusCode::kInternal);
  if (e == FramingError::kTooLarge || e == FramingError::kNoMemory) {
    code = static_cast<int>(StatusCode::kResourceExhausted);
  } else if (e == FramingError::kCompressed) {
    code = static_cast<int>(StatusCode::kUnimplemented);
  }
  reject_grpc(c, code, framing_error_text(e));
}

void GrpcServerConnection::reject_http(Call* c, int http_status) {
  c->state = Call::State::kRejected;
  char digits[12];
  size_t n = format_grpc_status(http_status, digits);
  nv_.clear();
  bool ok = push_nv(":status", std::string_view(digits, n));
  if (!ok || nghttp2_submit_response(session_.get(), c->stream_id, nv_.data(), nv_.size(),
                                     nullptr) != 0) {
    nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, c->stream_id,
                              NGHTTP2_INTERNAL_ERROR);
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
                                   std::span<const Metadata> trailers) {
  if (!session_.alive() || (id >> 32) != generation_) return false;
  auto stream_id = static_cast<int32_t>(id & 0x7fffffff);
  auto* c = static_cast<Call*>(nghttp2_session_get_stream_user_data(session_.get(), stream_id));
  if (!c || c->id != id || c->state != Call::State::kDispatched) return false;
  c->state = Call::State::kResponding;

  char status_digits[12];
  std::string_view status_text(status_digits, format_grpc_status(grpc_status, status_digits));
  size_t encoded_size = percent_encoded_size(grpc_message);
  // An error without a message has no DATA. With headers to send it is HEADERS then trailers
  // (daprd puts e.g. dapr-http-status in the initial metadata), else trailers-only.
  bool no_message = grpc_status != 0 && message.empty();
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
    if (ok && nghttp2_submit_response(session_.get(), stream_id, nv_.data(), nv_.size(),
                                      nullptr) == 0) {
      return true;
    }
    nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id,
                              NGHTTP2_INTERNAL_ERROR);
    return false;
  }

  // Body: prefix + message copied, so the caller's bytes are free right after respond().
  uint8_t prefix[kMessagePrefixSize];
  write_message_prefix(static_cast<uint32_t>(message.size()), prefix);
  c->out.clear();
  if (!no_message) {
    ok = ok && c->out.reserve(kMessagePrefixSize + message.size()) &&
         c->out.append(prefix, kMessagePrefixSize) && c->out.append(message);
  }
  // Trailers are sent once the DATA is out; keep copies until then.
  ok = ok && store_trailers(c, grpc_status, grpc_message, trailers);

  nghttp2_data_provider provider;
  provider.source.ptr = c;
  provider.read_callback = ServerCallbacks::read_data;
  if (ok && nghttp2_submit_response(session_.get(), stream_id, nv_.data(), nv_.size(),
                                    &provider) == 0) {
    return true;
  }
  nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_INTERNAL_ERROR);
  return false;
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

GrpcServerConnection::Call* GrpcServerConnection::find(CallId id) const {
  if (!session_.get() || (id >> 32) != generation_) return nullptr;
  auto stream_id = static_cast<int32_t>(id & 0x7fffffff);
  auto* c = static_cast<Call*>(nghttp2_session_get_stream_user_data(session_.get(), stream_id));
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
  nghttp2_data_provider provider;
  provider.source.ptr = c;
  provider.read_callback = ServerCallbacks::read_stream_data;
  if (!ok || nghttp2_submit_response(session_.get(), c->stream_id, nv_.data(), nv_.size(),
                                     &provider) != 0) {
    return false;
  }
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
  if (bytes.size() > kStreamHardQueueLimit - c->out.size()) return false;
  if (!c->resp_headers_sent && !submit_stream_headers(c, {})) return false;
  if (!c->out.append(bytes.data(), bytes.size())) return false;
  if (c->out.size() >= kStreamHighWatermark) c->above_high = true;
  if (c->data_deferred) {
    c->data_deferred = false;
    nghttp2_session_resume_data(session_.get(), c->stream_id);
  }
  return true;
}

size_t GrpcServerConnection::queued_bytes(CallId id) const {
  Call* c = find(id);
  return c ? c->out.size() : 0;
}

bool GrpcServerConnection::send_trailers(CallId id, int grpc_status,
                                         std::string_view grpc_message,
                                         std::span<const Metadata> trailers) {
  Call* c = find(id);
  if (!c || c->state != Call::State::kStreaming) return false;
  c->state = Call::State::kStreamEnding;
  if (!store_trailers(c, grpc_status, grpc_message, trailers)) {
    nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, c->stream_id,
                              NGHTTP2_INTERNAL_ERROR);
    return false;
  }
  if (c->resp_headers_sent) {
    // After the queued data: the provider sees trailers_pending once out is empty.
    c->trailers_pending = true;
    if (c->data_deferred) {
      c->data_deferred = false;
      nghttp2_session_resume_data(session_.get(), c->stream_id);
    }
    return true;
  }
  // Nothing sent yet: trailers-only response (one HEADERS frame with END_STREAM).
  std::span<const Metadata> t;
  nv_.clear();
  bool ok = c->trailers.materialize(&t) && push_nv(":status", "200") &&
            push_nv("content-type", "application/grpc");
  for (const Metadata& m : t) ok = ok && push_nv(m.key, m.value);
  if (ok && nghttp2_submit_response(session_.get(), c->stream_id, nv_.data(), nv_.size(),
                                    nullptr) == 0) {
    return true;
  }
  nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, c->stream_id,
                            NGHTTP2_INTERNAL_ERROR);
  return false;
}

void GrpcServerConnection::consume(CallId id, size_t n) {
  Call* c = find(id);
  if (!c || c->mode != CallMode::kStream) return;
  if (n > c->unconsumed) n = c->unconsumed;  // never reopen more than was received
  c->unconsumed -= n;
  session_.consume_stream(c->stream_id, n);
}

void GrpcServerConnection::cancel(CallId id, uint32_t h2_error) {
  Call* c = find(id);
  if (!c || c->state == Call::State::kCancelled) return;
  c->state = Call::State::kCancelled;
  if (session_.alive()) {
    nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, c->stream_id, h2_error);
  }
}

}  // namespace ringside::grpc
