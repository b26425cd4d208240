#pragma once
// HttpIngressConnection: one client connection on the Dapr HTTP API port (spec §4.1, §9).
//
// Requests are parsed in place from the connection's input buffer and answered strictly in
// order: while one invocation is in flight, later pipelined bytes simply accumulate. The
// invocation state lives in this object (one per connection), so a forwarded request needs no
// allocation of its own.
//
//   kHead ──head parsed──► kBody ──body complete──► kBusy ──response written──► kHead
//                                   (or straight to kBusy when there is no body)
//
// A body above kStreamThresholdBytes or of unknown length (chunked) to another app is streamed
// instead (http_ingress_stream.cc): the call goes out as CallLocalStream as soon as the head is
// parsed, body bytes follow as they arrive, and the answer is written back as it comes
// (chunked), so neither body is ever whole in memory:
//
//   kHead ──► kStream (body bytes → peer; reading paused while the peer's queue is full)
//         ──body sent──► kBusy ──answer streamed──► kHead
#include <cstdint>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/http1/chunked_decoder.h"
#include "dataplane/http1/request_parser.h"
#include "dataplane/appchannel/app_channel.h"
#include "dataplane/caller/invocation.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/caller/streaming_invocation.h"
#include "dataplane/mapping/invoke_target.h"
#include "dataplane/io/tcp_connection.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/upstream/peer_pool.h"
#include "dataplane/runtime/live_connections.h"
#include "dataplane/runtime/timer_list.h"

namespace ringside::invoke {

class HttpIngressConnection final : public io::ByteStream::Handler,
                                    public shard::LiveConnection,
                                    public InvocationOwner,
                                    public StreamingInvocationOwner,
                                    public shard::ParkedCall {
 public:
  // Serves an accepted socket; false (fd closed) when it cannot.
  static bool accept(ShardServices* svc, int fd);
  // Shutdown: close now if idle, else after the current response.
  void drain() override;
  // Forced shutdown: close now, whatever is in flight.
  void close_now() override { if (tcp_) tcp_->close(); }

  // io::ByteStream::Handler
  void on_data(io::ByteStream& c, std::span<const uint8_t> bytes) override;
  void on_drained(io::ByteStream& c) override;
  void on_closed(io::ByteStream& c, int err) override;
  // InvocationOwner
  void on_invocation_response(std::string_view internal_invoke_response) override;
  void on_invocation_error(int grpc_code, std::string_view error_text) override;
  // StreamingInvocationOwner (http_ingress_stream.cc)
  void on_stream_response_head(const codec::InternalInvokeResponseView& head) override;
  void on_stream_response_body(std::string_view bytes) override;
  void on_stream_response_end() override;
  void on_stream_request_writable() override;
  void on_stream_error(int grpc_code, std::string_view error_text) override;
  void on_stream_unimplemented() override;

  // Bodies larger than this (or chunked) to another app travel as CallLocalStream.
  static constexpr uint64_t kStreamThresholdBytes = uint64_t{1} << 20;
  // While the input buffer holds less than this, a streamed request stays whole in it, so a
  // peer without CallLocalStream can still get it as unary CallLocal.
  static constexpr size_t kReplayKeepBytes = size_t{1} << 20;

  explicit HttpIngressConnection(ShardServices* svc);
  ~HttpIngressConnection();  // releases its count in svc->http_balancer

 private:
  // kLookup: a streamed request waits (reading paused) for the control plane to look its
  // target app id up, before any body byte is consumed.
  enum class State { kHead, kBody, kLookup, kStream, kBusy };

  // shard::ParkedCall (kLookup)
  void on_table_changed() override;
  void on_park_timeout() override;

  void process();
  bool body_complete();
  // Read deadlines (slowloris, issue 10): the client must complete a head within
  // --http-header-timeout of its first byte (of accept, for a new connection), must not fall
  // silent for --http-body-timeout inside a body, and may keep an idle keep-alive connection
  // for --http-idle-timeout. Expired: 408 and close (idle: close). Streamed bodies (kStream)
  // get the body timeout too while the client owes bytes (not while the peer's queue is full):
  // expired, the streamed call is cancelled and the client gets 408 (closed if answered).
  void arm_head_deadline(int64_t from_ns);
  void arm_body_deadline();
  // A declared body is still arriving: room for more of it at once (fewer growth copies).
  void reserve_body_room();
  void arm_idle_deadline();
  static void on_read_deadline(void* self);
  // DAPR_API_TOKEN (spec §9): the request carries the token, or needs none (health checks).
  bool api_token_accepted() const;
  void dispatch();
  void invoke();
  void respond_invoke(std::string_view internal_invoke_response);
  // Writes the answer's status line and headers; `body` framing per the arguments. A gRPC
  // error answer (0 < code < 100) gets its JSON body written whole, and *body_follows false.
  bool write_invoke_head(const codec::InternalInvokeResponseView& r, bool stream_body,
                         std::string_view body, bool* body_follows);
  void respond_simple(int status, std::string_view content_type, std::string_view body);
  // "Ringside-Broadcast-Instances: N" when the answer is a broadcast's (broadcast_header_).
  bool append_broadcast_header(mem::Buffer& out) const;
  void respond_dapr_error(int status, std::string_view code, std::string_view message);
  void respond_invoke_error(int status, std::string_view error_text);
  void fail_protocol(int status);
  void finish_request();
  // The InternalInvokeRequest of the current request (views into scratch and in_), valid until
  // the scratch is reused.
  bool build_request_fields(const InvokeTarget& t, bool self_call, std::string_view body,
                            codec::InternalInvokeRequestFields* f);
  // Streaming (http_ingress_stream.cc).
  bool wants_streaming() const;
  bool begin_stream();           // true: the request is now streamed (or already answered)
  void pump_request_body();      // hands arrived body bytes to the stream, as its queue allows
  void pump_request_body_once();
  void fail_request_body(int status);  // the client's body is malformed or too large
  void end_streamed_request();
  std::string_view target_id() const { return target_.view(); }

  ShardServices* svc_;
  io::TcpConnection* tcp_ = nullptr;
  mem::Buffer in_;                 // received bytes: current request, then pipelined ones
  http1::RequestHead head_;        // current request head (views into in_; re-parsed if in_ moved)
  http1::ChunkedDecoder chunked_;  // current chunked body
  State state_ = State::kHead;
  const uint8_t* parsed_at_ = nullptr;  // in_.data() when head_ was parsed
  uint64_t body_size_ = 0;         // payload bytes of the current body
  size_t request_size_ = 0;        // head + body framing bytes of the current request
  bool continue_sent_ = false;     // "100 Continue" answered for this request
  bool keep_alive_ = true;         // keep the connection after this response
  bool head_method_ = false;       // HEAD: no body in the response
  int head_minor_version_ = 1;     // HTTP/1.x of the current request
  bool draining_ = false;          // shutdown asked: close after this response
  bool in_process_ = false;        // process() is on the stack (no re-entry)
  shard::Timer read_timer_;        // the read deadline of the state we wait in (see arm_*)
  bool head_timed_ = false;        // the current head's deadline is armed (not moved per byte)

  // The invocation in flight (kBusy).
  Invocation invocation_;          // resolve, CallLocal or self-call, built-in retry
  mem::Buffer target_;             // target id as the client wrote it (error messages)
  int64_t broadcast_header_ = -1;  // instances a broadcast reached, for the answer's header
                                   // (-1: the answer is not a broadcast's)

  // A streamed invocation (kStream, then kBusy).
  StreamingInvocation stream_call_;     // CallLocalStream toward the peer
  size_t body_at_ = 0;                  // offset of the body region in in_
  uint64_t body_sent_ = 0;              // payload bytes of the region handed to the stream
  int64_t lookup_deadline_ = 0;         // kLookup gives up at this time (0 = not waiting yet)
  uint64_t body_dropped_ = 0;           // payload bytes already removed from in_
  bool stream_replayable_ = false;      // in_ still holds the whole request (unary fallback)
  bool response_started_ = false;       // the answer's head is written
  bool response_body_ = false;          // answer bytes are to be written (not HEAD, 204, ...)
  bool response_chunked_ = false;       // ... with chunked framing
  bool response_paused_ = false;        // the client reads slowly: the peer stream is paused
  bool in_pump_ = false;                // pump_request_body() on the stack

  // Issue 11 metrics: stage stamps and daprd's dapr_http_server_* (docs/metrics.md).
  void note_http_served();              // counts the request answered (finish_request)
  int64_t request_start_ns_ = 0;        // first processing of the request's bytes (0 = none yet)
  int64_t response_ready_ns_ = 0;       // the invocation's answer arrived (0 = not an invocation's)
  int response_status_ = 0;             // HTTP status of the answer written
  char http_label_[shard::kServerLabelMax];  // `method="..",path=".."` of the current request
  uint16_t http_label_len_ = 0;         // its length (0 = head not parsed)
};

}  // namespace ringside::invoke
