#include "dataplane/grpc/client_connection.h"

#include <cstring>
#include <new>

#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/header_store.h"
#include "dataplane/grpc/message_encoding.h"
#include "dataplane/grpc/status.h"
#include "dataplane/grpc/timeout.h"

namespace ringside::grpc {

namespace {

std::string_view sv(const uint8_t* p, size_t n) { return {reinterpret_cast<const char*>(p), n}; }

constexpr uint32_t kHeaderEntryOverhead = 32;  // RFC 7541 §4.1
constexpr int kUnavailable = static_cast<int>(StatusCode::kUnavailable);
constexpr int kInternal = static_cast<int>(StatusCode::kInternal);

}  // namespace

struct GrpcClientConnection::Call {
  explicit Call(mem::ShardPool* pool, uint32_t max_message)
      : headers(pool), trailers(pool), reader(pool, max_message), decoded(pool), out(pool) {}

  Call* prev = nullptr;            // active/free list links
  Call* next = nullptr;
  int32_t stream_id = 0;           // HTTP/2 stream (assigned at submit)
  void* user = nullptr;            // caller's cookie for on_unary_complete
  std::string_view request;        // caller's unframed request bytes
  uint8_t prefix[kMessagePrefixSize] = {};  // its length prefix
  size_t sent = 0;                 // bytes of prefix+request handed to nghttp2
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
  mem::Buffer out;                 // stream mode: bytes queued by send_data()
  bool send_closed = false;        // stream mode: close_send() called (END_STREAM after out)
  bool data_deferred = false;      // stream mode: provider returned DEFERRED (needs resume)
  bool above_high = false;         // stream mode: queue reached the high watermark
  size_t unconsumed = 0;           // stream mode: received bytes not yet consume()d
};

struct ClientCallbacks {
  using Call = GrpcClientConnection::Call;
  static GrpcClientConnection* self(void* ud) { return static_cast<GrpcClientConnection*>(ud); }
  static Call* call_of(nghttp2_session* s, int32_t id) {
    return static_cast<Call*>(nghttp2_session_get_stream_user_data(s, id));
  }
  static bool done(const Call* c) { return c->completed || c->cancelled; }

  // Stops our side of a stream whose outcome is already known.
  static void stop_sending(nghttp2_session* s, int32_t id) {
    if (nghttp2_session_get_stream_local_close(s, id) == 0) {
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    }
  }

  static int on_header(nghttp2_session* s, const nghttp2_frame* f, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                       void* ud) {
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    Call* c = call_of(s, f->hd.stream_id);
    if (!c || done(c)) return 0;
    c->header_bytes += static_cast<uint32_t>(namelen + valuelen) + kHeaderEntryOverhead;
    if (c->header_bytes > self(ud)->settings_.max_header_list_bytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    std::string_view k = sv(name, namelen);
    std::string_view v = sv(value, valuelen);
    bool is_response = f->headers.cat == NGHTTP2_HCAT_RESPONSE;
    bool to_trailers = !is_response || (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
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

  static int on_data_chunk(nghttp2_session* s, uint8_t, int32_t id, const uint8_t* data,
                           size_t len, void* ud) {
    GrpcClientConnection* conn = self(ud);
    Call* c = call_of(s, id);
    // The connection window always reopens at once: one slow stream must not stall others.
    conn->session_.consume_connection(len);
    if (c && c->streaming && !done(c) && c->http_status == 200) {
      // Stream window: held until the caller consume()s what it forwarded.
      c->unconsumed += len;
      conn->handler_->on_stream_data(c->user, std::span<const uint8_t>(data, len));
      return 0;
    }
    // Unary (bounded by max_message_bytes), a non-200 body, or nobody listening: reopen now.
    conn->session_.consume_stream(id, len);
    if (!c || done(c) || c->streaming) return 0;
    if (c->reader.feed(data, len)) return 0;
    FramingError e = c->reader.error();
    int code = e == FramingError::kTooLarge || e == FramingError::kNoMemory
                   ? static_cast<int>(StatusCode::kResourceExhausted)
               : e == FramingError::kCompressed ? static_cast<int>(StatusCode::kUnimplemented)
                                                : kInternal;
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    self(ud)->complete_with(c, code, framing_error_text(e), false, false);
    return 0;
  }

  static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* f, void* ud) {
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
    Call* c = call_of(s, f->hd.stream_id);
    if (!c || done(c)) return 0;
    if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
      // Response headers of a streaming call (a trailers-only answer carries END_STREAM).
      if (c->streaming && f->hd.type == NGHTTP2_HEADERS &&
          f->headers.cat == NGHTTP2_HCAT_RESPONSE && c->http_status == 200) {
        std::span<const Metadata> h;
        if (!c->headers.materialize(&h)) h = {};
        self(ud)->handler_->on_stream_headers(c->user, h);
      }
      return 0;
    }
    stop_sending(s, f->hd.stream_id);
    self(ud)->complete_from_response(c);
    return 0;
  }

  static int on_frame_send(nghttp2_session* s, const nghttp2_frame* f, void*) {
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    if (Call* c = call_of(s, f->hd.stream_id)) c->headers_sent = true;
    return 0;
  }

  static int on_frame_not_send(nghttp2_session* s, const nghttp2_frame* f, int, void* ud) {
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    GrpcClientConnection* conn = self(ud);
    Call* c = conn->find_call(f->hd.stream_id);
    if (!c) return 0;
    // HEADERS never left (GOAWAY received, cancelled before sending): not processed.
    if (!done(c)) conn->complete_with(c, kUnavailable, "stream not started", true, false);
    if (call_of(s, f->hd.stream_id) == nullptr) conn->release_call(c);
    return 0;
  }

  static int on_stream_close(nghttp2_session* s, int32_t id, uint32_t error_code, void* ud) {
    Call* c = call_of(s, id);
    if (!c) return 0;
    GrpcClientConnection* conn = self(ud);
    nghttp2_session_set_stream_user_data(s, id, nullptr);
    if (!done(c)) {
      if (error_code == NGHTTP2_REFUSED_STREAM) {
        // Explicit refusal, or the stream lies above a GOAWAY's last-stream-id.
        conn->complete_with(c, kUnavailable, "stream refused by peer", true, false);
      } else {
        conn->complete_with(c, grpc_code_from_h2_error(error_code), "stream reset by peer", false,
                            false);
      }
    }
    conn->release_call(c);
    return 0;
  }

  static ssize_t read_data(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source* src, void*) {
    auto* c = static_cast<Call*>(src->ptr);
    // After completion the caller may have freed the request bytes: never touch them.
    if (done(c)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t total = kMessagePrefixSize + c->request.size();
    size_t n = 0;
    while (n < length && c->sent < total) {
      if (c->sent < kMessagePrefixSize) {
        buf[n++] = c->prefix[c->sent++];
        continue;
      }
      size_t off = c->sent - kMessagePrefixSize;
      size_t take = c->request.size() - off;
      if (take > length - n) take = length - n;
      std::memcpy(buf + n, c->request.data() + off, take);
      n += take;
      c->sent += take;
    }
    if (c->sent == total) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  // Stream mode: drains c->out; DEFERRED while empty and not half-closed (send_data and
  // close_send resume it), EOF with END_STREAM after close_send().
  static ssize_t read_stream_data(nghttp2_session*, int32_t id, uint8_t* buf, size_t length,
                                  uint32_t* flags, nghttp2_data_source* src, void* ud) {
    auto* c = static_cast<Call*>(src->ptr);
    if (done(c)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t n = c->out.size() < length ? c->out.size() : length;
    if (n) std::memcpy(buf, c->out.data(), n);
    c->out.consume(n);
    if (c->above_high && c->out.size() < kStreamLowWatermark) {
      c->above_high = false;
      // Fired from flush_to() after nghttp2 returns (handlers may submit frames).
      if (!self(ud)->writable_ids_.push_back(id)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (c->out.empty()) {
      if (c->send_closed) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
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
      nghttp2_session_callbacks_set_on_header_callback(c, on_header);
      nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, on_data_chunk);
      nghttp2_session_callbacks_set_on_frame_recv_callback(c, on_frame_recv);
      nghttp2_session_callbacks_set_on_frame_send_callback(c, on_frame_send);
      nghttp2_session_callbacks_set_on_frame_not_send_callback(c, on_frame_not_send);
      nghttp2_session_callbacks_set_on_stream_close_callback(c, on_stream_close);
      return c;
    }();
    return cbs;
  }
};

GrpcClientConnection::GrpcClientConnection(mem::ShardPool* pool, ClientHandler* handler,
                                           uint32_t max_message_bytes,
                                           const http2::SessionSettings& settings)
    : http2::Endpoint(pool, settings),
      handler_(handler),
      max_message_bytes_(max_message_bytes),
      nv_(pool),
      writable_ids_(pool) {}

GrpcClientConnection::~GrpcClientConnection() {
  on_transport_closed();
  while (free_) {
    Call* c = free_;
    free_ = c->next;
    c->~Call();
    pool_->deallocate(c);
  }
}

bool GrpcClientConnection::start() {
  return session_.start(http2::Role::kClient, ClientCallbacks::get(), this, settings_);
}

bool GrpcClientConnection::fire_writable() {
  if (writable_ids_.empty()) return false;
  // Only read callbacks (inside nghttp2_session_mem_send) append, so the list is stable here.
  for (size_t i = 0; i < writable_ids_.size(); ++i) {
    Call* c = lookup(writable_ids_[i]);
    if (c && c->streaming && !c->completed && !c->cancelled) handler_->on_stream_writable(c->user);
  }
  writable_ids_.clear();
  return true;
}

bool GrpcClientConnection::can_start_call() const {
  if (!session_.alive() || nghttp2_session_check_request_allowed(session_.get()) == 0) {
    return false;
  }
  uint32_t peer_max = nghttp2_session_get_remote_settings(
      session_.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return active_count_ < peer_max;
}

bool GrpcClientConnection::push_nv(std::string_view name, std::string_view value) {
  nghttp2_nv nv;
  nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
  nv.namelen = name.size();
  nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
  nv.valuelen = value.size();
  nv.flags = NGHTTP2_NV_FLAG_NONE;  // nghttp2 copies at submit time
  return nv_.push_back(nv);
}

int32_t GrpcClientConnection::submit_call(std::string_view path, std::string_view authority,
                                          std::string_view content_type,
                                          std::span<const Metadata> metadata, int64_t timeout_ns,
                                          Call* c, nghttp2_data_source_read_callback read) {
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
  if (ok) {
    nghttp2_data_provider provider;
    provider.source.ptr = c;
    provider.read_callback = read;
    id = nghttp2_submit_request(session_.get(), nullptr, nv_.data(), nv_.size(), &provider, c);
  }
  if (id <= 0) {
    c->cancelled = true;  // never reported: the caller sees the 0 return
    --active_count_;
    release_call(c);
    return 0;
  }
  c->stream_id = id;
  return id;
}

int32_t GrpcClientConnection::start_unary(std::string_view path, std::string_view authority,
                                          std::span<const Metadata> metadata, int64_t timeout_ns,
                                          std::string_view message, void* user) {
  if (!session_.alive() || nghttp2_session_check_request_allowed(session_.get()) == 0) return 0;
  if (message.size() > 0xffffffffu) return 0;
  Call* c = acquire_call();
  if (!c) return 0;
  c->user = user;
  c->request = message;
  write_message_prefix(static_cast<uint32_t>(message.size()), c->prefix);
  return submit_call(path, authority, "application/grpc", metadata, timeout_ns, c,
                     ClientCallbacks::read_data);
}

int32_t GrpcClientConnection::start_stream(std::string_view path, std::string_view authority,
                                           std::span<const Metadata> metadata, int64_t timeout_ns,
                                           void* user) {
  if (!session_.alive() || nghttp2_session_check_request_allowed(session_.get()) == 0) return 0;
  Call* c = acquire_call();
  if (!c) return 0;
  c->user = user;
  c->streaming = true;
  return submit_call(path, authority, "application/grpc+proto", metadata, timeout_ns, c,
                     ClientCallbacks::read_stream_data);
}

GrpcClientConnection::Call* GrpcClientConnection::lookup(int32_t stream_id) const {
  if (stream_id <= 0) return nullptr;
  if (session_.get()) {
    if (auto* c = static_cast<Call*>(
            nghttp2_session_get_stream_user_data(session_.get(), stream_id))) {
      return c;
    }
  }
  return find_call(stream_id);  // HEADERS not sent yet: nghttp2 has no stream object
}

bool GrpcClientConnection::send_data(int32_t stream_id, std::span<const uint8_t> bytes) {
  Call* c = lookup(stream_id);
  if (!c || !c->streaming || c->completed || c->cancelled || c->send_closed) return false;
  if (!session_.alive()) return false;
  if (bytes.size() > kStreamHardQueueLimit - c->out.size()) return false;
  if (!c->out.append(bytes.data(), bytes.size())) return false;
  if (c->out.size() >= kStreamHighWatermark) c->above_high = true;
  if (c->data_deferred) {
    c->data_deferred = false;
    nghttp2_session_resume_data(session_.get(), stream_id);
  }
  return true;
}

size_t GrpcClientConnection::queued_bytes(int32_t stream_id) const {
  Call* c = lookup(stream_id);
  return c ? c->out.size() : 0;
}

bool GrpcClientConnection::close_send(int32_t stream_id) {
  Call* c = lookup(stream_id);
  if (!c || !c->streaming || c->completed || c->cancelled || c->send_closed) return false;
  c->send_closed = true;
  if (c->data_deferred && session_.alive()) {
    c->data_deferred = false;
    nghttp2_session_resume_data(session_.get(), stream_id);
  }
  return true;
}

void GrpcClientConnection::consume(int32_t stream_id, size_t n) {
  Call* c = lookup(stream_id);
  if (!c || !c->streaming) return;
  if (n > c->unconsumed) n = c->unconsumed;  // never reopen more than was received
  c->unconsumed -= n;
  session_.consume_stream(stream_id, n);
}

void GrpcClientConnection::cancel(int32_t stream_id) {
  Call* c = lookup(stream_id);
  if (!c || c->completed || c->cancelled) return;
  c->cancelled = true;
  --active_count_;
  if (session_.alive()) {
    nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
  }
}

void GrpcClientConnection::on_transport_closed() {
  // Free nghttp2 first: no callback may run on a call recycled below.
  session_.destroy();
  while (active_) {
    Call* c = active_;
    if (!c->completed && !c->cancelled) {
      complete_with(c, kUnavailable, "connection closed", !c->headers_sent, true);
    }
    release_call(c);
  }
  writable_ids_.clear();
}

GrpcClientConnection::Call* GrpcClientConnection::acquire_call() {
  Call* c = free_;
  if (c) {
    free_ = c->next;
  } else {
    void* p = pool_->allocate(sizeof(Call));
    if (!p) return nullptr;
    c = new (p) Call(pool_, max_message_bytes_);
  }
  c->stream_id = 0;
  c->user = nullptr;
  c->request = {};
  c->sent = 0;
  c->http_status = c->grpc_status = 0;
  c->has_grpc_status = c->bad_grpc_status = false;
  c->msg_off = c->msg_len = 0;
  c->header_bytes = 0;
  c->headers_sent = c->completed = c->cancelled = false;
  c->streaming = c->send_closed = c->data_deferred = c->above_high = false;
  c->unconsumed = 0;
  c->prev = nullptr;
  c->next = active_;
  if (active_) active_->prev = c;
  active_ = c;
  ++active_count_;
  return c;
}

void GrpcClientConnection::release_call(Call* c) {
  if (c->prev) c->prev->next = c->next;
  else active_ = c->next;
  if (c->next) c->next->prev = c->prev;
  c->headers.release();
  c->trailers.release();
  c->reader.reset();
  c->decoded.release();
  c->out.release();
  c->prev = nullptr;
  c->next = free_;
  free_ = c;
}

GrpcClientConnection::Call* GrpcClientConnection::find_call(int32_t stream_id) const {
  // Linear, but only used for cancel() and frames that were never sent.
  for (Call* c = active_; c; c = c->next) {
    if (c->stream_id == stream_id) return c;
  }
  return nullptr;
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
