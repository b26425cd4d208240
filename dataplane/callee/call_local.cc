#include "dataplane/callee/call_local.h"

#include "dataplane/callee/callee_request.h"
#include "dataplane/mem/pool_object.h"

namespace ringside::invoke {

CallLocal::CallLocal(ShardServices* svc, grpc::CallHost* host, grpc::CallId id)
    : grpc::ServedCall(id), svc_(svc), host_(host), method_(svc->io.pool) {
  deadline_.fn = &CallLocal::on_deadline;
  deadline_.owner = this;
}

CallLocal* CallLocal::start(ShardServices* svc, grpc::CallHost* host,
                            const grpc::UnaryRequest& req) {
  shard::ShardCounters::bump(svc->counters->calllocal_served);
  auto* call = mem::pool_new<CallLocal>(svc->io.pool, svc, host, req.id);
  if (!call) {
    host->server().respond(req.id, {}, {}, 8, "out of memory", {});
    return nullptr;
  }
  codec::InternalInvokeRequestView& v = call->view_;
  const bool decoded = codec::decode_internal_invoke_request(req.message, &v);
  // Issue 11: daprd's req_recv/res_sent, labelled by the caller's dapr-caller-app-id (in the
  // InternalInvokeRequest's metadata, where the calling sidecar puts it; "" when absent).
  std::string_view src_app_id;
  if (decoded) {
    v.for_each_metadata([&](std::string_view key, std::string_view value) {
      if (key == "dapr-caller-app-id") src_app_id = value;
    });
  }
  call->source_row_ = &svc->counters->dapr.sources.row(src_app_id);
  call->received_ns_ = shard::monotonic_ns();
  shard::bump_relaxed(call->source_row_->req_recv);
  if (!decoded) {
    call->answer({}, 3, "parsing InternalInvokeRequest error: malformed message");
    return nullptr;
  }
  if (!v.has_message) {
    call->answer({}, 3, "parsing InternalInvokeRequest error: field Message is nil");
    return nullptr;
  }
  char text[512];
  std::string_view error;
  if (int code = check_request_for_app(&v, *svc->settings, svc->app != nullptr, host->caller_identity(),
                                       &call->method_, text, &error)) {
    call->answer({}, code, error);
    return nullptr;
  }
  if (req.timeout_ns > 0) svc->timers.arm(&call->deadline_, shard::monotonic_ns() + req.timeout_ns);
  // The app channel may answer before invoke() returns: the caller adopts only live calls.
  call->app_sent_ns_ = shard::monotonic_ns();  // issue 11: app_round_trip starts
  call->app_call_ = svc->app->invoke(v, call);
  return call;
}

void CallLocal::note_app_round_trip() {
  if (app_sent_ns_ == 0) return;
  svc_->counters->stages.record(shard::Stage::kAppRoundTrip, shard::monotonic_ns() - app_sent_ns_);
  app_sent_ns_ = 0;
}

void CallLocal::answer(std::string_view response, int grpc_status, std::string_view grpc_message,
                       grpc::AdoptedBody body) {
  app_call_ = nullptr;
  svc_->timers.cancel(&deadline_);
  if (source_row_) {  // issue 11: daprd's res_sent and the internal gRPC server's completed_rpcs
    shard::bump_relaxed(source_row_->res_sent[shard::grpc_status_slot(grpc_status)]);
    svc_->counters->dapr.note_fixed_grpc_served(shard::GrpcServedMethod::kCallLocal, grpc_status, shard::monotonic_ns() - received_ns_);
  }
  host_->server().respond(id(), {}, response, grpc_status, grpc_message, {}, body);
  host_->flush();
  host_->release(this);
}

void CallLocal::on_deadline(void* self) {
  auto* call = static_cast<CallLocal*>(self);
  if (call->app_call_ && call->svc_->app) call->svc_->app->cancel(call->app_call_);
  call->answer({}, 4, "context deadline exceeded");
}

void CallLocal::on_inbound_cancelled() {
  if (app_call_ && svc_->app) svc_->app->cancel(app_call_);
  app_call_ = nullptr;
  svc_->timers.cancel(&deadline_);
}

}  // namespace ringside::invoke
