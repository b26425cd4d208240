#pragma once
// CallLocal: the callee side of one unary /dapr.proto.internals.v1.ServiceInvocation/CallLocal
// from a peer sidecar (spec §2.2): decode the InternalInvokeRequest, apply the callee's checks,
// deliver it to our app over the app channel, answer with the app's InternalInvokeResponse (or
// the app channel's error), within the caller's grpc-timeout.
//
// The request bytes it views belong to the gRPC call and stay valid until it is answered or
// cancelled. The object is a grpc::ServedCall of the connection it arrived on.
#include <string_view>

#include "dataplane/appchannel/app_channel.h"
#include "dataplane/codec/invoke_messages.h"
#include "dataplane/grpc/served_call.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/runtime/timer_list.h"

namespace ringside::invoke {

class CallLocal final : public grpc::ServedCall, public AppCallCompletion {
 public:
  // Serves req, which arrived on host. Returns the call while it waits for the app, nullptr
  // when it was answered at once (malformed request, checks failed, out of memory).
  static CallLocal* start(ShardServices* svc, grpc::CallHost* host, const grpc::UnaryRequest& req);
  CallLocal(ShardServices* svc, grpc::CallHost* host, grpc::CallId id);

  // grpc::ServedCall
  void on_inbound_cancelled() override;
  // AppCallCompletion
  void on_app_response(std::string_view r) override {
    note_app_round_trip();
    answer(r, 0, {});
  }
  void on_app_error(int code, std::string_view message) override {
    note_app_round_trip();
    answer({}, code, message);
  }
  // The body goes to the caller from the app channel's buffer (issue 11).
  bool adopts_response_body() const override { return true; }
  void on_app_response_adopting(std::string_view head, mem::Buffer* body_owner, size_t body_offset,
                                size_t body_size) override {
    note_app_round_trip();
    answer(head, 0, {}, {body_owner, body_offset, body_size});
  }

 private:
  // Sends the answer (`response`, then an adopted body's bytes) and ends the call.
  void answer(std::string_view response, int grpc_status, std::string_view grpc_message,
              grpc::AdoptedBody body = {});
  // The caller's deadline passed before the app answered: give up on the app call (its answer
  // will be dropped) and tell the caller, as a Go gRPC server would.
  static void on_deadline(void* self);
  // Issue 11 metrics: the app answered; records the app_round_trip stage.
  void note_app_round_trip();

  ShardServices* svc_;                    // the shard
  grpc::CallHost* host_;                  // the connection that received it
  codec::InternalInvokeRequestView view_; // decoded request (method re-pointed at method_)
  mem::Buffer method_;                    // normalized method
  AppCall* app_call_ = nullptr;           // in flight on the app channel
  shard::Timer deadline_;                 // grpc-timeout of the caller, when it sent one
  int64_t app_sent_ns_ = 0;               // when the request went to the app (app_round_trip stage)
  int64_t received_ns_ = 0;               // issue 11: when the call arrived (dapr_grpc_io_server_server_latency)
  shard::SourceAppRow* source_row_ = nullptr;  // issue 11: daprd counters of the calling app id (res_sent)
};

}  // namespace ringside::invoke
