#pragma once
// CallLocalStream: the callee side of one /dapr.proto.internals.v1.ServiceInvocation/
// CallLocalStream call on the internal port (spec §2.3), what stock daprd peers try first.
//
//   peer ──InternalInvokeRequestStream*──► [reader → head, payloads] ──► AppChannel (streaming)
//   peer ◄─InternalInvokeResponseStream*── [head message, body as StreamPayload chunks] ◄──┘
//
// The app call starts with the leading chunk and the body flows through as it arrives, both
// ways, so a body larger than memory crosses with a bounded amount of it held here:
//  - request: each payload goes to send_request_body(); while the app channel holds
//    kStreamHighWatermark bytes not yet written, received DATA is not consume()d (the caller's
//    HTTP/2 window stays closed) until on_app_request_writable() — the proxy's pattern;
//  - response: body pieces become payload messages; while the caller's send queue is at
//    kStreamHighWatermark the app channel is paused (it stops reading the app's socket) until
//    on_writable() finds the queue below kStreamLowWatermark.
// A channel that only takes whole requests (gRPC apps) is driven through BufferedAppStream:
// body assembled (bounded by --max-body-size), answer held, same code path here.
//
// All memory comes from the shard pool; the object lives from on_stream_start until the call
// is answered or cancelled, a grpc::ServedCall of the connection it arrived on, released to
// it when it ends.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/grpc/message_stream_reader.h"
#include "dataplane/grpc/served_call.h"
#include "dataplane/grpc/server_connection.h"
#include "dataplane/appchannel/app_channel.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/runtime/timer_list.h"

namespace ringside::invoke {

struct ShardServices;

class CallLocalStream final : public grpc::ServedCall, public AppStreamCompletion {
 public:
  // Response body bytes per StreamPayload at most (daprd's own chunks are 2 KiB; larger ones
  // cost the receiver nothing and keep per-message overhead negligible).
  static constexpr size_t kChunkBytes = size_t{64} << 10;

  // Begins serving a call that arrived on `in`. nullptr when the pool is empty (the call was
  // then answered RESOURCE_EXHAUSTED).
  static CallLocalStream* start(ShardServices* svc, grpc::CallHost* in,
                                const grpc::StreamStart& s);
  CallLocalStream(ShardServices* svc, grpc::CallHost* in, grpc::CallId id);

  // grpc::ServedCall: events of the inbound call, routed by its connection.
  void on_inbound_data(std::span<const uint8_t> bytes) override;
  void on_inbound_half_close() override;
  void on_inbound_writable() override;
  // The caller reset the call or the connection is gone: stop the app call, no answer.
  void on_inbound_cancelled() override;

  // AppStreamCompletion
  void on_app_response_head(std::string_view internal_invoke_response) override;
  void on_app_response_body(std::span<const uint8_t> bytes) override;
  void on_app_response_end() override;
  void on_app_stream_error(int grpc_code, std::string_view message) override;
  void on_app_request_writable() override;


 private:
  enum class State : uint8_t {
    kReceiving,  // before the app call: waiting for the leading chunk (or, see start_app_call,
                 // for the first body byte)
    kInvoking,   // the app call runs; its answer has not begun
    kSending,    // the answer's head is sent; body pieces follow
    kDone,       // answered or cancelled; released to the connection
  };

  // One complete request message; false if the call was answered with an error.
  bool on_message(std::string_view message);
  // The leading chunk arrived: validate it and keep the view the app channel will use.
  bool accept_head(std::string_view message);
  // Starts the app call (body_length from the "content-length" metadata, -1 if absent).
  bool start_app_call();
  // One request payload: to the app (or, before the app call, the reason to start it).
  bool forward_payload(std::string_view data);
  // Encodes message 1 of the response (the response head without body bytes) into out_.
  bool encode_head(std::string_view internal_invoke_response);
  // Queues one payload message; false when the call ended (reset).
  bool send_payload(std::span<const uint8_t> data);
  // Ends the call with a status (trailers after any queued data), cancelling a running app call.
  void finish(int grpc_status, std::string_view grpc_message);
  // Our side cannot go on (pool empty mid-answer): RST_STREAM the call.
  void reset_call();
  // Answers a reader error with the status GrpcServerConnection uses for the same error.
  void fail_framing();
  void cancel_app_call();
  // The call is over: kDone, released to the connection (destroyed at the end of the turn).
  void end_call();
  void pump();
  static void on_deadline(void* self);

  ShardServices* svc_;
  grpc::CallHost* in_;                    // the caller's connection
  State state_ = State::kReceiving;       // where the call is
  grpc::MessageStreamReader reader_;      // splits DATA into InternalInvokeRequestStream messages
  bool have_head_ = false;                // the leading message arrived
  bool half_closed_ = false;              // the caller half-closed
  uint64_t next_seq_ = 0;                 // seq the next request payload must carry
  uint64_t body_received_ = 0;            // request body bytes so far (--max-body-size)
  int64_t body_length_ = -1;              // the caller's declared body size, -1 unknown
  size_t unconsumed_ = 0;                 // received bytes whose window we hold (back-pressure)
  mem::Buffer head_;                      // copy of the leading message (the view points here)
  mem::Buffer method_;                    // normalized method the view points at
  codec::InternalInvokeRequestView view_; // what the app channel delivers
  AppChannel* channel_ = nullptr;         // the app channel, or a BufferedAppStream over it
  AppCall* app_call_ = nullptr;           // in flight on channel_
  bool response_paused_ = false;          // pause_response() is in effect
  uint64_t resp_seq_ = 0;                 // seq of the next response payload
  mem::Buffer out_;                       // one encoded outbound message (reused per chunk)
  shard::Timer deadline_;                 // the caller's grpc-timeout, when it sent one
};

}  // namespace ringside::invoke
