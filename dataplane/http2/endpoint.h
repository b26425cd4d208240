#pragma once
// Endpoint: one side of an HTTP/2 connection, sans-IO: the nghttp2 session plus what the gRPC
// client and server connections share. The owner (a TransportLink) feeds received bytes in and
// collects bytes to send; subclasses add their role (client calls, served calls).
//
// Written once here: the nghttp2 callback table (events reach the subclass as virtual hooks),
// the connection window reopened on every DATA chunk, the header list budget, the scratch
// header list for submits, and the outbound queue of streaming calls (StreamQueue) with its
// watermarks and writable callbacks.
//
// DATA payloads are read by the subclass straight into the output buffer (NGHTTP2_DATA_FLAG_
// NO_COPY, see read_member): one copy of body bytes fewer than letting nghttp2 frame them.
//
// The flush loop: output is collected from nghttp2, then streams whose send queue drained
// below the low watermark are told they are writable (outside nghttp2's callbacks, so handlers
// may submit frames), and their new output is collected in turn.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/http2/session.h"
#include "dataplane/http2/stream_queue.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/pod_vector.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::http2 {

class Endpoint {
 public:
  Endpoint(mem::ShardPool* pool, Role role, const SessionSettings& settings)
      : pool_(pool), settings_(settings), session_(pool), nv_(pool), role_(role),
        writable_(pool) {}
  virtual ~Endpoint() = default;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Creates the nghttp2 session and queues our SETTINGS (a client also queues the connection
  // preface). False if nghttp2 could not be set up.
  bool start() { return session_.start(role_, callbacks(), this, settings_); }
  // Received bytes. False: close the connection after flushing output.
  bool feed(const uint8_t* data, size_t len) { return session_.feed(data, len); }
  // Appends pending output (and the output of writable callbacks) until out holds max_bytes;
  // what is left waits in nghttp2 and the stream queues. False on a fatal error.
  bool flush_to(mem::Buffer* out, size_t max_bytes = SIZE_MAX);
  // The connection should be closed once output is flushed.
  bool wants_close() const { return session_.wants_close(); }
  // Frames (and DATA chunks) received so far, PING ACKs included: what keepalive watches.
  uint64_t frames_received() const { return frames_received_; }
  // Queues a PING (nghttp2 answers the peer's own PINGs itself). False without a session.
  bool send_ping();
  // DATA frames whose payload was read straight into the output (NO_COPY): what tests watch.
  uint64_t no_copy_frames() const { return no_copy_frames_; }

 protected:
  // ---- nghttp2 events, forwarded from the session's callbacks (0 or an nghttp2 error) ----
  virtual int on_begin_headers(const nghttp2_frame& f) { return (void)f, 0; }
  virtual int on_header(const nghttp2_frame& f, std::string_view name,
                        std::string_view value) = 0;
  // A DATA chunk; the connection window was already reopened for it (one slow stream must
  // not stall the others). The stream window is the subclass's: hold_window() or consume.
  virtual int on_data_chunk(int32_t stream_id, std::span<const uint8_t> data) = 0;
  virtual int on_frame_recv(const nghttp2_frame& f) = 0;
  virtual int on_frame_send(const nghttp2_frame& f) = 0;
  virtual int on_frame_not_send(const nghttp2_frame& f) { return (void)f, 0; }
  virtual int on_stream_close(int32_t stream_id, uint32_t error_code) = 0;
  // A token read_queue() recorded is owed its writable callback (after the output round):
  // the subclass checks that it still names a live call and tells its handler.
  virtual void on_writable(uint64_t token) = 0;

  // Frees the session (no callback runs afterwards) and forgets owed writable callbacks.
  void end_session();
  // The stream's user data (the subclass's call), or nullptr (also without a session).
  void* stream_user_data(int32_t stream_id) const;

  // One received header of a stream: adds its RFC 7541 §4.1 size to *list_bytes; false once
  // the list exceeds the max_header_list_bytes we advertised.
  bool header_fits(uint32_t* list_bytes, std::string_view name, std::string_view value) const;

  // ---- submitting frames (headers from nv_, built with push_nv after nv_.clear()) ----
  // Appends one entry; nghttp2 copies names and values at submit time.
  bool push_nv(std::string_view name, std::string_view value);
  // nghttp2_submit_response with nv_; true on success.
  bool submit_response(int32_t stream_id, const nghttp2_data_provider* data);
  // RST_STREAM(error_code).
  void reset_stream(int32_t stream_id, uint32_t error_code);
  // A data provider for source whose reads call Read, a member of the subclass D:
  //   ssize_t D::Read(S* source, uint8_t* buf, size_t length, uint32_t* flags)
  // (nghttp2's read callback without the session plumbing).
  // Left, when given, is a function `size_t Left(const S*)` telling how many payload bytes the
  // source has left to send (a unary message): the output then grows once for all of them
  // (and their frame headers, up to the flush's bound) instead of doubling frame by frame,
  // where each doubling copies what it holds: about one more copy of the body (issue 11).
  template <auto Read, auto Left = nullptr, class S>
  static nghttp2_data_provider provider(S* source) {
    nghttp2_data_provider p;
    p.source.ptr = source;
    p.read_callback = &read_member<Read, Left, S>;
    return p;
  }

  // ---- streaming: a StreamQueue per stream ----
  // Copies bytes into q (false above kStreamHardQueueLimit or without pool memory), marks it
  // above the high watermark, and resumes the stream's deferred data provider.
  bool queue_send(StreamQueue* q, int32_t stream_id, std::span<const uint8_t> bytes);
  // Resumes the stream's data provider if it is waiting for bytes (or for the end).
  void resume(StreamQueue* q, int32_t stream_id);
  // The body of a streaming data provider: copies up to length queued bytes into buf. A queue
  // that fell below the low watermark after reaching the high one owes `token` a writable
  // callback (if notify). Empty: *at_end when `closing` (the caller ends the DATA), else
  // NGHTTP2_ERR_DEFERRED until resume(). Returns the byte count or an nghttp2 error.
  ssize_t read_queue(StreamQueue* q, uint64_t token, bool notify, bool closing, uint8_t* buf,
                     size_t length, bool* at_end);
  // n received bytes of a forwarding stream keep its receive window until consume_queue().
  static void hold_window(StreamQueue* q, size_t n) { q->unconsumed += n; }
  // The receiver forwarded n bytes: reopens the stream window for them (never more than held).
  void consume_queue(StreamQueue* q, int32_t stream_id, size_t n);

  mem::ShardPool* pool_;             // all memory of this connection
  SessionSettings settings_;         // advertised SETTINGS and header list limit
  Session session_;                  // the nghttp2 session (manual window updates)
  mem::PodVector<nghttp2_nv> nv_;    // scratch header list for submits

 private:
  struct Callbacks;
  // The nghttp2 callback table shared by every endpoint (built once, on first use).
  static const nghttp2_session_callbacks* callbacks();
  // Fires the writable callbacks owed after the last round of output; true if any fired.
  bool fire_writable();
  // The read callback behind provider<Read>(): calls Read on the subclass (the user data).
  // During flush_to() the bytes are read straight into the output buffer, behind room left for
  // the 9-byte frame header, and the DATA frame is marked NO_COPY: nghttp2 then hands us the
  // header in send_data_callback (right away, within the same nghttp2_session_mem_send) and we
  // commit header + payload. That saves the copy into nghttp2's frame buffer and out again.
  template <auto Read, auto Left, class S>
  static ssize_t read_member(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                             uint32_t* flags, nghttp2_data_source* src, void* ud) {
    auto* self = static_cast<Endpoint*>(ud);
    size_t left = 0;
    if constexpr (Left != nullptr) left = Left(static_cast<const S*>(src->ptr));
    uint8_t* direct = self->no_copy_target(length, left);
    ssize_t n = (subclass(Read, ud)->*Read)(static_cast<S*>(src->ptr), direct ? direct : buf,
                                            length, flags);
    if (direct && n >= 0) {
      *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
      self->no_copy_pending_ = static_cast<size_t>(n);
    }
    return n;
  }
  // Where a DATA payload of up to length bytes can be read straight into the output (after
  // room for the frame header), or nullptr (not flushing, or no pool memory: nghttp2 copies).
  // left: payload bytes the source has left in all (0 = unknown): the room made covers them.
  uint8_t* no_copy_target(size_t length, size_t left);
  // nghttp2's send_data_callback for a NO_COPY frame: writes the header in front of the
  // payload read_member() already placed, and commits both.
  int send_no_copy(const nghttp2_frame& f, const uint8_t* framehd, size_t length);
  // The subclass D owning Read, from the session's user data (this endpoint).
  template <class D, class S>
  static D* subclass(ssize_t (D::*)(S*, uint8_t*, size_t, uint32_t*), void* ud) {
    return static_cast<D*>(static_cast<Endpoint*>(ud));
  }

  Role role_;                          // client or server side of the connection
  uint64_t frames_received_ = 0;       // frames and DATA chunks received (liveness)
  mem::PodVector<uint64_t> writable_;  // tokens owed on_writable() after this output round
  mem::Buffer* no_copy_out_ = nullptr; // flush_to()'s output while it runs (NO_COPY DATA)
  size_t no_copy_limit_ = SIZE_MAX;    // flush_to()'s max_bytes: pause nghttp2 beyond it
  size_t no_copy_pending_ = SIZE_MAX;  // payload bytes read_member() placed, not committed
  uint64_t no_copy_frames_ = 0;        // NO_COPY DATA frames committed (no_copy_frames())
};

}  // namespace ringside::http2
