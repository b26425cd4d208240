#pragma once
// GrpcClientConnection: the client side of one h2c connection to a peer (sidecar or gRPC app)
// carrying gRPC calls, driven sans-IO (the shard's io_uring connection pumps bytes through
// feed()/flush_to()). Deadlines: a call may carry an absolute deadline (the caller's clock);
// the caller arms one timer and calls expire_calls(), which ends overdue calls with
// DEADLINE_EXCEEDED after RST_STREAM(CANCEL).
//
// Unary calls (start_unary): every call started gets exactly one on_unary_complete(), unless
// the caller cancel()s it: a response, a reset, a GOAWAY that excludes it, or
// on_transport_closed().
//
// Streaming calls (start_stream; any stream kind, bytes forwarded as they are): send_data()
// queues gRPC-framed bytes that leave as the peer's window allows (watermarks in
// stream_flow.h), close_send() half-closes after them. The handler gets on_stream_headers(),
// on_stream_data() (raw DATA payload, split anywhere; it holds the stream's receive window
// until consume()), on_stream_writable(), and exactly one on_stream_end() unless the caller
// cancel()s. A trailers-only response arrives as on_stream_end() without on_stream_headers().
//
// Owned by one shard thread; every allocation comes from the pool given to the constructor,
// call objects are recycled through a free list.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/grpc/metadata.h"
#include "dataplane/grpc/pod_vector.h"
#include "dataplane/grpc/stream_flow.h"
#include "dataplane/http2/endpoint.h"
#include "dataplane/http2/session.h"
#include "dataplane/mem/buffer_slice.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/recycling_list.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::grpc {

// Outcome of one unary call. All views are valid only during on_unary_complete().
struct UnaryResult {
  int grpc_status;                      // gRPC status code (UNAVAILABLE on transport failure)
  std::string_view grpc_message;        // grpc-message, percent-decoded
  std::string_view message;             // response message without its prefix (may be empty)
  std::span<const Metadata> headers;    // response headers (non-reserved)
  std::span<const Metadata> trailers;   // trailers (for trailers-only responses: all metadata)
  bool not_processed;    // the peer guaranteed it did not process the call (REFUSED_STREAM,
                         // above GOAWAY's last-stream-id, or never sent): safe to retry
  bool transport_error;  // the connection died or broke the protocol; grpc_status UNAVAILABLE
};

class ClientHandler {
 public:
  virtual ~ClientHandler() = default;
  // Exactly once per started, not cancelled call. May start new calls on this connection.
  virtual void on_unary_complete(void* user, const UnaryResult& r) = 0;

  // ---- streaming calls; all views are valid during the callback only ----
  // Response headers (":status 200"; non-reserved metadata).
  virtual void on_stream_headers(void* user, std::span<const Metadata> headers) {
    (void)user;
    (void)headers;
  }
  // Raw DATA payload in order; reopen the window with consume(stream, bytes.size()).
  virtual void on_stream_data(void* user, std::span<const uint8_t> bytes) {
    (void)user;
    (void)bytes;
  }
  // The send queue drained below kStreamLowWatermark after reaching kStreamHighWatermark.
  virtual void on_stream_writable(void* user) { (void)user; }
  // The call is over (exactly once, unless cancel()led): trailers or trailers-only response,
  // a reset by the peer (CANCEL → CANCELLED), or a transport failure (UNAVAILABLE,
  // transport_error; not_processed when the peer provably never saw it).
  virtual void on_stream_end(void* user, int grpc_status, std::string_view grpc_message,
                             std::span<const Metadata> trailers, bool transport_error,
                             bool not_processed) {
    (void)user;
    (void)grpc_status;
    (void)grpc_message;
    (void)trailers;
    (void)transport_error;
    (void)not_processed;
  }
};

class GrpcClientConnection final : public http2::Endpoint {
 public:
  GrpcClientConnection(mem::ShardPool* pool, ClientHandler* handler, uint32_t max_message_bytes,
                       const http2::SessionSettings& settings = {});
  // Calls on_transport_closed(): the handler must outlive the connection.
  ~GrpcClientConnection() override;
  // start() (SETTINGS, and the client preface), feed(), flush_to(), wants_close(): http2::Endpoint.

  // Not GOAWAY'd, not failed, below the peer's MAX_CONCURRENT_STREAMS.
  bool can_start_call() const;
  // Not GOAWAY'd, not failed, stream ids left: a new call would be accepted (and wait in
  // nghttp2's queue for a free stream when MAX_CONCURRENT_STREAMS is reached).
  bool accepts_calls() const;
  // The peer's SETTINGS arrived (before that, peer_max_streams() is nghttp2's assumption, 100).
  bool settings_received() const { return settings_received_; }
  // The peer's SETTINGS_MAX_CONCURRENT_STREAMS (as nghttp2 applies it).
  uint32_t peer_max_streams() const;
  // The shard count a ringside peer advertised (http2::kRingsideShardsSetting); 0 = none.
  uint32_t peer_shards() const { return peer_shards_; }
  // Starts POST path with content-type application/grpc, te: trailers, grpc-timeout (when
  // timeout_ns > 0) and metadata. The unframed message is `message` followed by `tail` (bytes
  // of another buffer, e.g. a body encoded last and left where it arrived); the prefix is added
  // here, and both are read straight into the output as the window allows. The bytes of
  // path/authority/metadata are copied; message and tail must stay valid until
  // on_unary_complete() or cancel().
  // Returns the stream id, or 0 if the call could not be started (no callback then).
  // deadline_ns: when expire_calls() ends the call (0 = never); timeout_ns is what the peer
  // is told (grpc-timeout).
  int32_t start_unary(std::string_view path, std::string_view authority,
                      std::span<const Metadata> metadata, int64_t timeout_ns,
                      std::string_view message, void* user, int64_t deadline_ns = 0,
                      mem::BufferSlice tail = {});
  // Starts a streaming call: POST path with content-type application/grpc+proto (what daprd's
  // proxy sends), te: trailers, grpc-timeout (when timeout_ns > 0) and metadata (copied).
  // Returns the stream id, or 0 (no callback then).
  int32_t start_stream(std::string_view path, std::string_view authority,
                       std::span<const Metadata> metadata, int64_t timeout_ns, void* user,
                       int64_t deadline_ns = 0);
  // Copies gRPC-framed bytes into the call's queue. Keep queued_bytes() under
  // kStreamHighWatermark and wait for on_stream_writable(); false when the call is unknown,
  // ended or half-closed, above kStreamHardQueueLimit, or the pool is empty.
  bool send_data(int32_t stream_id, std::span<const uint8_t> bytes);
  // Bytes queued by send_data() and not yet handed to nghttp2.
  size_t queued_bytes(int32_t stream_id) const;
  // END_STREAM after the queued data.
  bool close_send(int32_t stream_id);
  // The handler forwarded n received bytes: reopen the stream's receive window for them.
  void consume(int32_t stream_id, size_t n);
  // RST_STREAM(CANCEL) (unary or streaming); no completion callback for this call afterwards.
  void cancel(int32_t stream_id);
  // Ends every call whose deadline is at or before now: RST_STREAM(CANCEL), then the handler
  // gets DEADLINE_EXCEEDED "context deadline exceeded" (the peer may have processed it).
  // Returns the earliest deadline still pending (0 = none) and how many calls ended.
  int64_t expire_calls(int64_t now, size_t* expired = nullptr);
  // The socket is gone: every call in flight completes with transport_error, UNAVAILABLE and
  // `reason` (and not_processed if its HEADERS never left). The session is freed. Idempotent.
  void on_transport_closed(std::string_view reason = "connection closed");
  // Calls started and not yet completed or cancelled.
  size_t active_calls() const { return active_count_; }

 private:
  struct Call;

  // ---- http2::Endpoint hooks (nghttp2 events) ----
  int on_header(const nghttp2_frame& f, std::string_view name, std::string_view value) override;
  int on_data_chunk(int32_t stream_id, std::span<const uint8_t> data) override;
  int on_frame_recv(const nghttp2_frame& f) override;
  int on_frame_send(const nghttp2_frame& f) override;
  int on_frame_not_send(const nghttp2_frame& f) override;
  int on_stream_close(int32_t stream_id, uint32_t error_code) override;
  // token: the stream id; fires on_stream_writable() if the call still streams.
  void on_writable(uint64_t token) override;

  Call* acquire_call();
  Call* find_call(int32_t stream_id) const;
  // The call nghttp2 holds for the stream (HEADERS left), or nullptr.
  Call* call_of(int32_t stream_id) const;
  // call_of() as the fast path, else find_call() (HEADERS not sent yet).
  Call* lookup(int32_t stream_id) const;
  // Common part of start_unary/start_stream.
  int32_t submit_call(std::string_view path, std::string_view authority,
                      std::string_view content_type, std::span<const Metadata> metadata,
                      int64_t timeout_ns, Call* c, const nghttp2_data_provider& body);
  // Request body providers: a unary call's prefix + message, a streaming call's queue.
  ssize_t read_unary(Call* c, uint8_t* buf, size_t length, uint32_t* flags);
  // Bytes of a unary call's framed message not yet read (the output's growth hint).
  static size_t unary_left(const Call* c);
  ssize_t read_stream(Call* c, uint8_t* buf, size_t length, uint32_t* flags);
  // Stops our side of a stream whose outcome is already known.
  void stop_sending(int32_t stream_id);
  // Builds the result from what was received and calls the handler once.
  void complete_from_response(Call* c);
  void complete_with(Call* c, int grpc_status, std::string_view message, bool not_processed,
                     bool transport_error);

  ClientHandler* handler_;            // receives completions
  uint32_t max_message_bytes_;        // response messages above this fail the call
  mem::RecyclingList<Call> calls_{pool_};  // calls not yet recycled, and recycled blocks
  size_t active_count_ = 0;           // calls not yet completed or cancelled
  bool settings_received_ = false;    // the peer's SETTINGS arrived
  uint32_t peer_shards_ = 0;          // what a ringside peer advertised (0 = not a ringside peer)
};

}  // namespace ringside::grpc
