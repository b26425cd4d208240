#pragma once
// StreamingInvocation: the caller side of CallLocalStream (spec §2.3) for one invocation whose
// body is large or of unknown length. The request head leaves as message 1, the body as
// StreamPayload messages while it is still arriving, and the answer comes back the same way:
//
//   owner ──send_body()──► [payload messages] ──► peer sidecar ──► its app
//   owner ◄─on_stream_response_body()── [InternalInvokeResponseStream reader] ◄──┘
//
// Memory is bounded by the watermarks of stream_flow.h: the owner stops feeding at
// kStreamHighWatermark queued bytes (on_stream_request_writable() resumes it), and while the
// owner pauses the response its bytes stay in the peer's window (consume() is deferred).
// There is no built-in retry: a streamed body cannot be replayed. A peer without
// CallLocalStream (daprd before 1.10) answers UNIMPLEMENTED; the owner is told so and may
// replay the call as unary CallLocal if it still holds the whole body.
// Lives inside its owner (one per HTTP connection), so a call allocates only pool buffers.
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/codec/stream_messages.h"
#include "dataplane/grpc/message_stream_reader.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/upstream/peer_pool.h"

#include "dataplane/resiliency/circuit_breakers.h"  // issue 10 (res)
#include "dataplane/resiliency/policies.h"          // issue 10 (res)
#include "dataplane/runtime/timer_list.h"

namespace ringside::invoke {

class StreamingInvocationOwner {
 public:
  virtual ~StreamingInvocationOwner() = default;
  // The callee's answer without its body (status, headers, content type); valid during the call.
  virtual void on_stream_response_head(const codec::InternalInvokeResponseView& head) = 0;
  // The next piece of the response body, valid during the call. The owner may call
  // pause_response() inside.
  virtual void on_stream_response_body(std::string_view bytes) = 0;
  // The answer is complete. Last callback.
  virtual void on_stream_response_end() = 0;
  // The queue toward the peer fell under the low watermark: send_body() may go on.
  virtual void on_stream_request_writable() = 0;
  // No complete answer: the gRPC code (-1: name resolution failed) and daprd's error text, as
  // InvocationOwner::on_invocation_error. May come after the head (the answer broke off).
  // Last callback.
  virtual void on_stream_error(int grpc_code, std::string_view error_text) = 0;
  // The peer does not serve CallLocalStream. Last callback; the connection is marked so that
  // start() answers kUnaryOnly from now on.
  virtual void on_stream_unimplemented() = 0;
};

class StreamingInvocation final : public upstream::PeerStream {
 public:
  enum class Start : uint8_t {
    kStarted,    // message 1 is on its way; callbacks follow
    kUnaryOnly,  // the chosen peer is known not to serve CallLocalStream: nothing was sent
    kUnknownApp, // the table has no answer for the app id yet; a lookup was requested and
                 // nothing was sent: start again when the table changes (see shard::ParkedCalls)
    kFailed,     // on_stream_error() already ran
  };
  // Largest payload message sent: larger pieces are split.
  static constexpr size_t kPayloadBytes = size_t{64} << 10;

  explicit StreamingInvocation(ShardServices* svc);
  ~StreamingInvocation() override;
  StreamingInvocation(const StreamingInvocation&) = delete;
  StreamingInvocation& operator=(const StreamingInvocation&) = delete;

  // The consistent-hash key of the next start() (upstream/request_hash_key.h; 0 = none).
  void set_hash_key(uint64_t key) { hash_key_ = key; }
  // Resolves app_id in namespace ns and sends {request: head} (head.message.data empty).
  Start start(std::string_view app_id, std::string_view ns,
              const codec::InternalInvokeRequestFields& head, StreamingInvocationOwner* owner);
  // Queues body bytes as payload messages (copied). False when the call cannot take them (it
  // then ends with on_stream_error()).
  bool send_body(std::string_view bytes);
  // Bytes queued toward the peer; stop at grpc::kStreamHighWatermark.
  size_t queued() const;
  // The body is complete: half-close.
  bool end_body();
  // Response flow control: while paused, received bytes are not acknowledged to the peer.
  void pause_response() { paused_ = true; }
  void resume_response();
  // The owner lost interest: RST_STREAM, no callback afterwards.
  void cancel();
  bool active() const { return owner_ != nullptr; }
  // Releases buffers above keep_bytes back to the shard pool.
  void recycle(size_t keep_bytes);

  // upstream::PeerStream
  void on_peer_headers(std::span<const grpc::Metadata> headers) override;
  void on_peer_data(std::span<const uint8_t> bytes) override;
  void on_peer_writable() override;
  void on_peer_end(int grpc_status, std::string_view grpc_message,
                   std::span<const grpc::Metadata> trailers, bool transport_error,
                   bool not_processed) override;

 private:
  // Encodes one InternalInvokeRequestStream message into out_ and queues it.
  bool send_message(const codec::InternalInvokeRequestStreamFields& m);
  // One complete response message; false when the call ended.
  bool on_message(std::string_view message);
  // Ends the call: RST toward the peer (if still open) and the error to the owner.
  void fail(int grpc_code, std::string_view message);
  StreamingInvocationOwner* finish();
  // Issue 10 (res): the Resiliency timeout and circuit breaker of streamed invocations (never
  // retried: the body is not replayable). The outcome for the breaker, once per admission.
  static void on_policy_timeout(void* self);
  void note_breaker(bool success);
  void release_breaker();

  ShardServices* svc_;
  StreamingInvocationOwner* owner_ = nullptr;  // set while the call runs
  upstream::PeerConnection* peer_ = nullptr;       // connection carrying the stream
  int32_t stream_ = 0;                         // its stream id (0: none)
  grpc::MessageStreamReader reader_;           // splits response DATA into messages
  mem::Buffer out_;                            // one encoded outbound message
  uint64_t hash_key_ = 0;                      // consistent-hash key (set_hash_key)
  shard::PeerAppRow* dapr_row_ = nullptr;      // issue 11: daprd counters of the target app id, while the stream runs
  int64_t dapr_sent_ns_ = 0;                   // issue 11: when the stream opened (res_recv_latency_ms)
  uint64_t send_seq_ = 0;                      // seq of the next request payload
  uint64_t recv_seq_ = 0;                      // seq the next response payload must carry
  size_t unconsumed_ = 0;                      // received while paused, not yet acknowledged
  bool have_head_ = false;                     // the leading response message arrived
  bool paused_ = false;                        // the owner cannot take response bytes now
  // Issue 10 (res): the target's Resiliency policy.
  const resiliency::TargetPolicy* policy_ = nullptr;  // nullptr = none
  uint64_t breaker_key_ = 0;                   // <appId>:<method> hash; 0 = no breaker
  resiliency::Admission admission_;            // the breaker's answer
  bool admitted_ = false;                      // admission_ awaits its outcome
  bool app_failed_ = false;                    // the head carried an HTTP status <200 or >399
  shard::Timer timeout_timer_;                 // the policy's timeout
};

}  // namespace ringside::invoke
