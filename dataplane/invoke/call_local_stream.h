#pragma once
// CallLocalStream: the callee side of one /dapr.proto.internals.v1.ServiceInvocation/
// CallLocalStream call on the internal port (spec §2.3), what stock daprd peers try first.
//
//   peer ──InternalInvokeRequestStream*──► [reader → head + assembled body] ──► AppChannel
//   peer ◄─InternalInvokeResponseStream*── [head message, body as StreamPayload chunks] ◄──┘
//
// This round the request body is assembled (bounded by --max-body-size) before the app call,
// and the app's answer is buffered whole (it comes from the app channel as one message); the
// response body leaves in kChunkBytes payloads as the caller's window allows. All memory comes
// from the shard pool; the object lives from on_stream_start until the call is answered or
// cancelled and is freed through GrpcIngressConnection::release_local_stream().
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/grpc/message_stream_reader.h"
#include "dataplane/grpc/server_connection.h"
#include "dataplane/invoke/app_channel.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/shard/timer_list.h"

namespace ringside::invoke {

class GrpcIngressConnection;
struct ShardServices;

class CallLocalStream final : public AppCallCompletion {
 public:
  // Response body bytes per StreamPayload (daprd's own chunks are 2 KiB; larger ones cost the
  // receiver nothing and keep per-message overhead negligible).
  static constexpr size_t kChunkBytes = size_t{64} << 10;

  // Begins serving a call that arrived on `in`. nullptr when the pool is empty (the call was
  // then answered RESOURCE_EXHAUSTED).
  static CallLocalStream* start(ShardServices* svc, GrpcIngressConnection* in,
                                const grpc::StreamStart& s);
  CallLocalStream(ShardServices* svc, GrpcIngressConnection* in, grpc::CallId id);

  // Events of the inbound call, routed by the ingress connection. Each may free the object.
  void on_data(std::span<const uint8_t> bytes);
  void on_half_close();
  void on_writable();
  // The caller reset the call or the connection is gone: stop the app call, free, no answer.
  void on_cancelled();

  // AppCallCompletion
  void on_app_response(std::string_view internal_invoke_response) override;
  void on_app_error(int grpc_code, std::string_view message) override;

  grpc::CallId id() const { return id_; }
  CallLocalStream* next = nullptr;  // ingress connection's list links
  CallLocalStream* prev = nullptr;

 private:
  enum class State : uint8_t {
    kReceiving,  // reading request messages until the caller half-closes
    kInvoking,   // the app call is in flight
    kSending,    // streaming the response body
    kDone,       // answered; freed as soon as no callback of ours is on the stack
  };

  // One complete request message; false if the call was answered with an error (freed).
  bool on_message(std::string_view message);
  // Builds the view for the app channel and starts the app call.
  void invoke_app();
  // Queues payload messages up to the high watermark; ends the call after the last one.
  // False when the call ended (the object is freed or about to be).
  bool send_more();
  // Encodes message 1 of the response (the response head without body bytes) into out_.
  bool encode_head(const codec::InternalInvokeResponseView& r);
  // Ends the call with a status (trailers after any queued data) and frees the object.
  void finish(int grpc_status, std::string_view grpc_message);
  // Our side cannot go on (pool empty mid-answer): RST_STREAM the call and free the object.
  void reset_call();
  // Answers a reader error with the status GrpcServerConnection uses for the same error.
  void fail_framing();
  // Frees now, or after invoke() returns when the completion ran inside it.
  void release();
  static void on_deadline(void* self);

  ShardServices* svc_;
  GrpcIngressConnection* in_;             // the caller's connection
  grpc::CallId id_;                       // the caller's call
  State state_ = State::kReceiving;       // where the call is
  bool in_invoke_ = false;                // app->invoke() on the stack: defer release()
  bool in_writable_ = false;              // on_writable() on the stack (inside flush): no pump
  grpc::MessageStreamReader reader_;      // splits DATA into InternalInvokeRequestStream messages
  bool have_head_ = false;                // the leading message arrived
  uint64_t next_seq_ = 0;                 // seq the next request payload must carry
  mem::Buffer head_;                      // copy of the leading message (the view points here)
  mem::Buffer body_;                      // assembled request body, then freed at the answer
  mem::Buffer method_;                    // normalized method the view points at
  codec::InternalInvokeRequestView view_; // what the app channel delivers
  AppCall* app_call_ = nullptr;           // in flight on the app channel
  mem::Buffer resp_;                      // copy of the app's InternalInvokeResponse
  std::string_view resp_body_;            // its body bytes (inside resp_)
  size_t resp_sent_ = 0;                  // body bytes queued so far
  uint64_t resp_seq_ = 0;                 // seq of the next response payload
  mem::Buffer out_;                       // one encoded outbound message (reused per chunk)
  shard::Timer deadline_;                 // the caller's grpc-timeout, when it sent one
};

}  // namespace ringside::invoke
