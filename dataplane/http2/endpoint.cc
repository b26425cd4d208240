#include "dataplane/http2/endpoint.h"

#include <cstring>

namespace ringside::http2 {

namespace {

std::string_view sv(const uint8_t* p, size_t n) { return {reinterpret_cast<const char*>(p), n}; }

constexpr uint32_t kHeaderEntryOverhead = 32;  // RFC 7541 §4.1: what the list limit counts
constexpr size_t kFrameHeaderBytes = 9;        // RFC 9113 §4.1: every frame's header

}  // namespace

// nghttp2 callbacks; the session's user data is the Endpoint.
struct Endpoint::Callbacks {
  static Endpoint* self(void* ud) { return static_cast<Endpoint*>(ud); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* ud) {
    return self(ud)->on_begin_headers(*f);
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* f, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                       void* ud) {
    return self(ud)->on_header(*f, sv(name, namelen), sv(value, valuelen));
  }
  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                           size_t len, void* ud) {
    Endpoint* e = self(ud);
    ++e->frames_received_;
    // The connection window always reopens at once: one slow stream must not stall others.
    e->session_.consume_connection(len);
    return e->on_data_chunk(stream_id, std::span<const uint8_t>(data, len));
  }
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* f, void* ud) {
    ++self(ud)->frames_received_;
    return self(ud)->on_frame_recv(*f);
  }
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* f, void* ud) {
    return self(ud)->on_frame_send(*f);
  }
  static int on_frame_not_send(nghttp2_session*, const nghttp2_frame* f, int, void* ud) {
    return self(ud)->on_frame_not_send(*f);
  }
  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                             void* ud) {
    return self(ud)->on_stream_close(stream_id, error_code);
  }
  static int send_data(nghttp2_session*, nghttp2_frame* f, const uint8_t* framehd,
                       size_t length, nghttp2_data_source*, void* ud) {
    return self(ud)->send_no_copy(*f, framehd, length);
  }
};

uint8_t* Endpoint::no_copy_target(size_t length, size_t left) {
  mem::Buffer* out = no_copy_out_;
  if (!out) return nullptr;
  size_t want = kFrameHeaderBytes + length;
  if (left > length && out->tail_room() < want) {
    // Growing anyway: grow for the rest of the message. Frames carry at least 16 KiB (RFC
    // 9113's minimum SETTINGS_MAX_FRAME_SIZE) unless the window is smaller, which bounds the
    // frame headers; flush_to() pauses past its bound, which one frame may cross.
    constexpr size_t kMinFramePayload = 16384;
    size_t all = left + (left / kMinFramePayload + 1) * kFrameHeaderBytes;
    if (no_copy_limit_ != SIZE_MAX) {
      const size_t used = out->size();
      const size_t bound = (no_copy_limit_ > used ? no_copy_limit_ - used : 0) + kMinFramePayload + kFrameHeaderBytes;
      if (all > bound) all = bound;
    }
    if (all > want) want = all;
  }
  if (!out->reserve(want)) return nullptr;
  return out->tail() + kFrameHeaderBytes;
}

int Endpoint::send_no_copy(const nghttp2_frame& f, const uint8_t* framehd, size_t length) {
  // nghttp2 calls this in the same mem_send pass as the read callback (nothing else reaches
  // the output in between), with the length the read returned. We never ask for padding.
  mem::Buffer* out = no_copy_out_;
  if (!out || f.data.padlen != 0 || length != no_copy_pending_ ||
      out->tail_room() < kFrameHeaderBytes + length) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  std::memcpy(out->tail(), framehd, kFrameHeaderBytes);
  out->commit(kFrameHeaderBytes + length);
  no_copy_pending_ = SIZE_MAX;
  ++no_copy_frames_;
  // mem_send would go on framing NO_COPY DATA without returning: stop at the caller's bound.
  return out->size() >= no_copy_limit_ ? NGHTTP2_ERR_PAUSE : 0;
}

const nghttp2_session_callbacks* Endpoint::callbacks() {
  // Immutable once built and copied into each session: one process-wide table.
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c = nullptr;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, Callbacks::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(c, Callbacks::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, Callbacks::on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, Callbacks::on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(c, Callbacks::on_frame_send);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(c, Callbacks::on_frame_not_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, Callbacks::on_stream_close);
    nghttp2_session_callbacks_set_send_data_callback(c, Callbacks::send_data);
    return c;
  }();
  return cbs;
}

bool Endpoint::flush_to(mem::Buffer* out, size_t max_bytes) {
  // Writable callbacks may queue more data, which wants flushing too. Each round needs a queue
  // to cross the high watermark again, so a few rounds suffice; the bound keeps a handler that
  // refills forever from starving the shard (the rest goes out on the next flush).
  constexpr int kMaxRounds = 16;
  for (int round = 0; round < kMaxRounds; ++round) {
    no_copy_out_ = out;  // DATA payloads are read straight into out (read_member)
    no_copy_limit_ = max_bytes;
    bool ok = session_.flush_to(out, max_bytes);
    no_copy_out_ = nullptr;
    if (!ok) return false;
    if (!fire_writable()) return true;
  }
  return session_.alive();
}

bool Endpoint::fire_writable() {
  if (writable_.empty()) return false;
  // Only read callbacks (inside nghttp2_session_mem_send) append, so the list is stable here.
  for (size_t i = 0; i < writable_.size(); ++i) on_writable(writable_[i]);
  writable_.clear();
  return true;
}

bool Endpoint::send_ping() {
  if (!session_.alive()) return false;
  return nghttp2_submit_ping(session_.get(), NGHTTP2_FLAG_NONE, nullptr) == 0;
}

void Endpoint::end_session() {
  session_.destroy();
  writable_.clear();
}

void* Endpoint::stream_user_data(int32_t stream_id) const {
  if (!session_.get()) return nullptr;
  return nghttp2_session_get_stream_user_data(session_.get(), stream_id);
}

bool Endpoint::header_fits(uint32_t* list_bytes, std::string_view name,
                           std::string_view value) const {
  *list_bytes += static_cast<uint32_t>(name.size() + value.size()) + kHeaderEntryOverhead;
  return *list_bytes <= settings_.max_header_list_bytes;
}

bool Endpoint::push_nv(std::string_view name, std::string_view value) {
  nghttp2_nv nv;
  nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
  nv.namelen = name.size();
  nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
  nv.valuelen = value.size();
  nv.flags = NGHTTP2_NV_FLAG_NONE;  // nghttp2 copies at submit time
  return nv_.push_back(nv);
}

bool Endpoint::submit_response(int32_t stream_id, const nghttp2_data_provider* data) {
  return nghttp2_submit_response(session_.get(), stream_id, nv_.data(), nv_.size(), data) == 0;
}

void Endpoint::reset_stream(int32_t stream_id, uint32_t error_code) {
  nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id, error_code);
}

bool Endpoint::queue_send(StreamQueue* q, int32_t stream_id, std::span<const uint8_t> bytes) {
  if (!q->fits(bytes.size())) return false;
  if (!q->out.append(bytes.data(), bytes.size())) return false;
  if (q->out.size() >= kStreamHighWatermark) q->above_high = true;
  resume(q, stream_id);
  return true;
}

void Endpoint::resume(StreamQueue* q, int32_t stream_id) {
  if (!q->data_deferred) return;
  q->data_deferred = false;
  nghttp2_session_resume_data(session_.get(), stream_id);
}

ssize_t Endpoint::read_queue(StreamQueue* q, uint64_t token, bool notify, bool closing,
                             uint8_t* buf, size_t length, bool* at_end) {
  *at_end = false;
  size_t n = q->out.size() < length ? q->out.size() : length;
  if (n) std::memcpy(buf, q->out.data(), n);  // an empty queue may have no storage at all
  q->out.consume(n);
  if (q->above_high && q->out.size() < kStreamLowWatermark) {
    q->above_high = false;
    // Fired from flush_to() after nghttp2 returns (handlers may submit frames).
    if (notify && !writable_.push_back(token)) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  if (q->out.empty()) {
    if (closing) {
      *at_end = true;
    } else if (n == 0) {
      q->data_deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return static_cast<ssize_t>(n);
}

void Endpoint::consume_queue(StreamQueue* q, int32_t stream_id, size_t n) {
  if (n > q->unconsumed) n = q->unconsumed;  // never reopen more than was received
  q->unconsumed -= n;
  session_.consume_stream(stream_id, n);
}

}  // namespace ringside::http2
