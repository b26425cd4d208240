#pragma once
// GrpcServerConnection: the server side of one h2c connection carrying gRPC calls, driven
// sans-IO (the shard's io_uring connection pumps bytes through feed()/flush_to()).
//
// Once the request HEADERS are valid, handler->classify() picks the mode of the call.
//
// Unary mode, per call: request HEADERS → validated (POST, application/grpc[+proto], grpc-timeout) →
// DATA reassembled into one message → END_STREAM → handler->on_unary_request(). The handler
// answers with respond() now or later; RST_STREAM or a closed connection before that gives
// on_call_cancelled(). Framework errors (405, 415, RESOURCE_EXHAUSTED, INTERNAL,
// UNIMPLEMENTED for compression) are answered here without reaching the handler.
//
// Stream mode (any stream kind, bytes forwarded as they are): on_stream_start() with the
// headers, then on_stream_data() with raw DATA payload (gRPC-framed, split anywhere) and
// on_stream_half_close() at the client's END_STREAM. The handler answers with send_headers(),
// send_data() (queued, sent as the peer's window allows; see stream_flow.h for watermarks) and
// send_trailers(). Received bytes hold the stream's receive window until consume(): that is
// how a slow consumer back-pressures the client. RST_STREAM or a closed connection before
// send_trailers() gives on_call_cancelled(); cancel() resets the call from our side.
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
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/recycling_list.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::grpc {

// Connection generation (high 32 bits) and HTTP/2 stream id (low 32 bits). Ids from another
// connection or of a finished call are ignored by respond().
using CallId = uint64_t;

// One complete unary request. All views stay valid until respond() or on_call_cancelled()
// for this call.
struct UnaryRequest {
  CallId id;                             // handle for respond()
  std::string_view path;                 // ":path", e.g. "/pkg.Service/Method"
  std::string_view authority;            // ":authority" (or "host")
  std::span<const Metadata> metadata;    // non-reserved headers (see is_reserved_header)
  int64_t timeout_ns;                    // from grpc-timeout; 0 = none
  std::string_view message;              // the request message without its 5-byte prefix
};

// How the connection handles a call: collect one message (unary) or pass bytes through.
enum class CallMode : uint8_t { kUnary, kStream };

// Headers of a stream-mode call. Views stay valid until the call ends (send_trailers() sent,
// cancel(), or on_call_cancelled()).
struct StreamStart {
  CallId id;                             // handle for send_*/consume/cancel
  std::string_view path;                 // ":path", e.g. "/pkg.Service/Method"
  std::string_view authority;            // ":authority" (or "host")
  std::span<const Metadata> metadata;    // non-reserved headers (see is_reserved_header)
  int64_t timeout_ns;                    // from grpc-timeout; 0 = none
};

class ServerHandler {
 public:
  virtual ~ServerHandler() = default;
  // Picks the mode from the request headers (views valid during the call only).
  virtual CallMode classify(std::string_view path, std::span<const Metadata> metadata) {
    (void)path;
    (void)metadata;
    return CallMode::kUnary;
  }
  // A stream-mode call began; send_* may be called now (re-entrancy is fine) or later.
  virtual void on_stream_start(const StreamStart& s) { (void)s; }
  // Raw DATA payload of a stream-mode call, in order. The bytes hold receive window until
  // consume(id, bytes.size()) (now or later); the view is valid during the call only.
  virtual void on_stream_data(CallId id, std::span<const uint8_t> bytes) {
    (void)id;
    (void)bytes;
  }
  // The client half-closed (END_STREAM): no more on_stream_data for this call.
  virtual void on_stream_half_close(CallId id) { (void)id; }
  // The outbound queue of a stream-mode call drained below kStreamLowWatermark after having
  // reached kStreamHighWatermark: send more.
  virtual void on_stream_writable(CallId id) { (void)id; }
  // A complete request; call respond() now (re-entrancy is fine) or later.
  virtual void on_unary_request(const UnaryRequest& req) = 0;
  // The call is gone (RST_STREAM, connection closed) before respond() / send_trailers();
  // do not answer it. Not called after the handler's own cancel().
  virtual void on_call_cancelled(CallId id) = 0;
};

// Bytes of another owner's buffer that a unary answer sends after its message bytes, taking
// the buffer over (issue 11: the body is sent from where the app channel received it).
struct AdoptedBody {
  mem::Buffer* owner = nullptr;  // moved out by respond(): left empty
  size_t offset = 0;             // from owner->data()
  size_t size = 0;               // 0: nothing adopted
};

class GrpcServerConnection final : public http2::Endpoint {
 public:
  GrpcServerConnection(mem::ShardPool* pool, ServerHandler* handler, uint32_t max_message_bytes,
                       const http2::SessionSettings& settings = {});
  // Calls on_transport_closed(): the handler must outlive the connection.
  ~GrpcServerConnection() override;
  // start() (SETTINGS), feed(), flush_to(), wants_close(): http2::Endpoint.

  // Answers a call: HEADERS(:status 200, content-type application/grpc, headers...), one DATA
  // message (prefix added, bytes copied), trailers (grpc-status, grpc-message percent-encoded,
  // trailers...). A non-OK status with an empty message is sent trailers-only.
  // The message is `message` followed by `body`'s bytes, whose buffer the call takes over and
  // returns to the pool once they are out (no copy of them here).
  // False if the call is unknown, already answered or gone.
  bool respond(CallId id, std::span<const Metadata> headers, std::string_view message,
               int grpc_status, std::string_view grpc_message,
               std::span<const Metadata> trailers, AdoptedBody body = {});
  // ---- stream mode (calls the handler classified as kStream); false: unknown/ended call ----
  // Response headers (":status 200", content-type application/grpc, then headers).
  // Once; send_data() before it sends them with no metadata.
  bool send_headers(CallId id, std::span<const Metadata> headers);
  // Copies bytes (already gRPC-framed) into the call's queue; they leave as the peer's window
  // allows. Keep queued_bytes() under kStreamHighWatermark and wait for on_stream_writable();
  // fails above kStreamHardQueueLimit or when the pool is empty.
  bool send_data(CallId id, std::span<const uint8_t> bytes);
  // Bytes queued by send_data() and not yet handed to nghttp2 (0 for unknown calls).
  size_t queued_bytes(CallId id) const;
  // Ends the call after the queued data: trailers (grpc-status, grpc-message percent-encoded,
  // trailers...), or a trailers-only response when no headers/data were sent.
  bool send_trailers(CallId id, int grpc_status, std::string_view grpc_message,
                     std::span<const Metadata> trailers);
  // The handler forwarded n received bytes: reopen the receive window for them.
  void consume(CallId id, size_t n);
  // RST_STREAM(h2_error) for any open call (unary or stream); no on_call_cancelled() for it.
  void cancel(CallId id, uint32_t h2_error = NGHTTP2_CANCEL);
  // The handler's own object for an open call (its ServedCall), kept with the call and found
  // through the stream's nghttp2 user data: O(1) routing of DATA and stream events instead of
  // a search (issue 11). host_data() is nullptr for unknown or ended calls and until set.
  void set_host_data(CallId id, void* data);
  void* host_data(CallId id) const;

  // Graceful GOAWAY in two steps (http2::Session::shutdown_notice): the notice and a PING now,
  // the final GOAWAY naming the last stream when the PING's ACK arrives. In-flight calls
  // finish; the peer opens nothing new.
  void shutdown();
  // The socket is gone: every call handed to the handler and not answered gets
  // on_call_cancelled(); the session is freed. Idempotent.
  void on_transport_closed();
  // Calls opened and not yet closed (including ones being answered).
  size_t active_calls() const { return calls_.size(); }
  // Issue 10, slowloris limits (read by ingress::GrpcPortConnection's one timer, not per frame):
  // the peer's SETTINGS arrived (its connection preface is complete) ...
  bool peer_settings_received() const { return peer_settings_received_; }
  // ... when the header block being received began (0 = none: no HEADERS waits for its
  // END_HEADERS/CONTINUATION) ...
  int64_t header_block_since_ns() const { return header_block_since_ns_; }
  // ... and how many frames arrived so far (activity, for the idle limit).
  uint64_t frames_received() const { return frames_received_; }

 private:
  struct Call;

  // ---- http2::Endpoint hooks (nghttp2 events) ----
  int on_begin_headers(const nghttp2_frame& f) override;
  int on_header(const nghttp2_frame& f, std::string_view name, std::string_view value) override;
  int on_data_chunk(int32_t stream_id, std::span<const uint8_t> data) override;
  int on_frame_recv(const nghttp2_frame& f) override;
  int on_frame_send(const nghttp2_frame& f) override;
  int on_stream_close(int32_t stream_id, uint32_t error_code) override;
  // token: the CallId; fires on_stream_writable() if the call still streams.
  void on_writable(uint64_t token) override;

  Call* acquire_call(int32_t stream_id);
  // The call nghttp2 holds for the stream, or nullptr.
  Call* call_of(int32_t stream_id) const;
  // The open call behind id, or nullptr (foreign generation, finished, unknown).
  Call* find(CallId id) const;
  // Headers are complete and valid: classify and dispatch a stream-mode call.
  void start_stream(Call* c);
  // Queues response headers with the deferred stream data provider.
  bool submit_stream_headers(Call* c, std::span<const Metadata> headers);
  // Copies the trailers (grpc-status, encoded grpc-message, extra) into c->trailers.
  bool store_trailers(Call* c, int grpc_status, std::string_view grpc_message,
                      std::span<const Metadata> trailers);
  void dispatch(Call* c);
  // Answers with a gRPC error (trailers-only) from the framework itself.
  void reject_grpc(Call* c, int grpc_status, std::string_view message);
  // Answers a reassembly error with the matching gRPC status.
  void reject_framing(Call* c);
  // Answers with a bare HTTP status (405, 415).
  void reject_http(Call* c, int http_status);
  bool submit_trailers(Call* c);
  // Response body providers: a unary answer (prefix + message) and a stream-mode call's queue;
  // both end the DATA without END_STREAM and submit the trailers.
  ssize_t read_unary(Call* c, uint8_t* buf, size_t length, uint32_t* flags);
  // Bytes of a unary answer's framed message not yet read (the output's growth hint).
  static size_t unary_left(const Call* c);
  ssize_t read_stream(Call* c, uint8_t* buf, size_t length, uint32_t* flags);
  // Both providers: drains c's queue; once it is empty and `closing`, ends the DATA.
  ssize_t drain(Call* c, bool closing, uint8_t* buf, size_t length, uint32_t* flags);

  ServerHandler* handler_;            // receives requests and cancellations
  uint32_t max_message_bytes_;        // request messages above this get RESOURCE_EXHAUSTED
  uint32_t generation_;               // high half of every CallId of this connection
  bool shutting_down_ = false;        // shutdown() sent the notice; the final GOAWAY follows
  bool peer_settings_received_ = false;  // the client's preface and SETTINGS arrived
  int64_t header_block_since_ns_ = 0;    // CLOCK_MONOTONIC start of an unfinished header block, 0 = none
  uint64_t frames_received_ = 0;         // complete frames received (idle detection)
  mem::RecyclingList<Call> calls_{pool_};  // open calls, and recycled blocks
  mem::Buffer scratch_{pool_};             // scratch bytes (encoded grpc-message, numbers)
};

}  // namespace ringside::grpc
