#include "dataplane/invoke/grpc_ingress.h"

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/http1/method_normalize.h"
#include "dataplane/invoke/callee_request.h"
#include "dataplane/invoke/sidecar_settings.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/pool_object.h"

namespace ringside::invoke {
namespace {
constexpr std::string_view kCallLocalPath = "/dapr.proto.internals.v1.ServiceInvocation/CallLocal";
constexpr std::string_view kInvokeServicePath = "/dapr.proto.runtime.v1.Dapr/InvokeService";
constexpr std::string_view kGetMetadataPath = "/dapr.proto.runtime.v1.Dapr/GetMetadata";
constexpr std::string_view kCallLocalStreamPath =
    "/dapr.proto.internals.v1.ServiceInvocation/CallLocalStream";
}  // namespace

// One CallLocal handed to our app. Owns the decoded view of the request; the bytes it views
// belong to the gRPC call and stay valid until respond() or cancellation.
struct GrpcIngressConnection::ServerCall final : AppCallCompletion {
  GrpcIngressConnection* conn;            // the connection that received it
  grpc::CallId id;                        // the gRPC call to answer
  codec::InternalInvokeRequestView view;  // decoded request (method re-pointed at `method`)
  mem::Buffer method;                     // normalized method
  AppCall* app_call = nullptr;            // in flight on the app channel
  ServerCall* next = nullptr;             // list links
  ServerCall* prev = nullptr;
  shard::Timer deadline;                  // grpc-timeout of the caller, when it sent one

  ServerCall(GrpcIngressConnection* c, grpc::CallId i, mem::ShardPool* pool)
      : conn(c), id(i), method(pool) {
    deadline.fn = &ServerCall::on_deadline;
    deadline.owner = this;
  }
  // The caller's deadline passed before the app answered: give up on the app call (its answer
  // will be dropped) and tell the caller, as a Go gRPC server would.
  static void on_deadline(void* self) {
    auto* call = static_cast<ServerCall*>(self);
    if (call->app_call && call->conn->svc_->app) call->conn->svc_->app->cancel(call->app_call);
    call->conn->complete(call, {}, 4, "context deadline exceeded");
  }
  void on_app_response(std::string_view r) override { conn->complete(this, r, 0, {}); }
  void on_app_error(int code, std::string_view message) override {
    conn->complete(this, {}, code, message);
  }
};

GrpcIngressConnection::GrpcIngressConnection(ShardServices* svc, GrpcPort port)
    : svc_(svc),
      port_(port),
      grpc_(svc->io.pool, this, static_cast<uint32_t>(svc->settings->max_body_size + 4096)) {}

GrpcIngressConnection* GrpcIngressConnection::accept(ShardServices* svc, GrpcPort port, int fd) {
  auto* g = mem::pool_new<GrpcIngressConnection>(svc->io.pool, svc, port);
  if (!g) return nullptr;
  if (!g->grpc_.start()) {
    mem::pool_delete(svc->io.pool, g);
    return nullptr;
  }
  g->tcp_ = io::TcpConnection::adopt(&svc->io, fd, g);
  if (!g->tcp_) {
    mem::pool_delete(svc->io.pool, g);
    return nullptr;
  }
  shard::ShardCounters::bump(svc->counters->connections_open);
  g->next_live = svc->grpc_live;
  if (svc->grpc_live) svc->grpc_live->prev_live = g;
  svc->grpc_live = g;
  g->pump();
  return g;
}

void GrpcIngressConnection::drain() {
  grpc_.shutdown();
  pump();
}

void GrpcIngressConnection::pump() {
  // Inside feed() nghttp2 is on the stack: on_data pumps once it returns.
  if (in_feed_ || !tcp_ || tcp_->closing()) return;
  if (!grpc_.flush_to(&tcp_->out())) {
    tcp_->close();
    return;
  }
  tcp_->flush();
  if (grpc_.wants_close()) tcp_->close_after_flush();
}

void GrpcIngressConnection::on_data(io::TcpConnection&, std::span<const uint8_t> bytes) {
  in_feed_ = true;
  bool ok = grpc_.feed(bytes.data(), bytes.size());
  in_feed_ = false;
  if (!ok) {
    grpc_.flush_to(&tcp_->out());
    tcp_->close_after_flush();
    return;
  }
  pump();
}

void GrpcIngressConnection::on_unary_request(const grpc::UnaryRequest& req) {
  if (port_ == GrpcPort::kInternal && req.path == kCallLocalPath) {
    serve_call_local(req);
    return;
  }
  if (port_ == GrpcPort::kApi && req.path == kInvokeServicePath) {
    serve_invoke_service(req);
    return;
  }
  if (port_ == GrpcPort::kApi && req.path == kGetMetadataPath) {
    grpc_.respond(req.id, {}, svc_->settings->grpc_metadata_response, 0, {}, {});
    if (!in_feed_) pump();
    return;
  }
  // Anything else is not served (yet) on this port.
  char msg[256];
  int n = snprintf(msg, sizeof msg, "unknown method %.*s", static_cast<int>(req.path.size()),
                   req.path.data());
  grpc_.respond(req.id, {}, {}, 12, std::string_view(msg, n > 0 ? std::min<size_t>(n, 255) : 0), {});
  if (!in_feed_) pump();
}

void GrpcIngressConnection::serve_call_local(const grpc::UnaryRequest& req) {
  shard::ShardCounters::bump(svc_->counters->calllocal_served);
  auto* call = mem::pool_new<ServerCall>(svc_->io.pool, this, req.id, svc_->io.pool);
  if (!call) {
    grpc_.respond(req.id, {}, {}, 8, "out of memory", {});
    return;
  }
  // Link first: complete() unlinks, and the app channel may complete synchronously.
  call->next = calls_;
  if (calls_) calls_->prev = call;
  calls_ = call;
  codec::InternalInvokeRequestView& v = call->view;
  if (!codec::decode_internal_invoke_request(req.message, &v)) {
    complete(call, {}, 3, "parsing InternalInvokeRequest error: malformed message");
    return;
  }
  if (!v.has_message) {
    complete(call, {}, 3, "parsing InternalInvokeRequest error: field Message is nil");
    return;
  }
  char text[512];
  std::string_view error;
  if (int code = check_request_for_app(&v, svc_->app != nullptr, &call->method, text, &error)) {
    complete(call, {}, code, error);
    return;
  }
  if (req.timeout_ns > 0) svc_->timers.arm(&call->deadline, shard::monotonic_ns() + req.timeout_ns);
  call->app_call = svc_->app->invoke(v, call);
}

void GrpcIngressConnection::serve_invoke_service(const grpc::UnaryRequest& req) {
  auto* call = mem::pool_new<InvokeServiceCall>(svc_->io.pool, svc_, this, req.id);
  if (!call) {
    grpc_.respond(req.id, {}, {}, 8, "out of memory", {});
    if (!in_feed_) pump();
    return;
  }
  // Link first: the answer may come before start() returns.
  call->next = api_calls_;
  if (api_calls_) api_calls_->prev = call;
  api_calls_ = call;
  call->start(req);
  if (call->answered()) release_api_call(call);
}

void GrpcIngressConnection::answer_api_call(InvokeServiceCall* call) {
  GrpcAnswer& a = call->answer();
  std::span<const grpc::Metadata> headers, trailers;
  // A failure to materialize (no memory) leaves a list empty rather than the call unanswered.
  if (!a.headers.materialize(&headers)) headers = {};
  if (!a.trailers.materialize(&trailers)) trailers = {};
  grpc_.respond(call->id(), headers, a.code == 0 ? a.message.view() : std::string_view(), a.code,
                a.status_message, trailers);
  if (!call->starting()) release_api_call(call);
  if (!in_feed_) pump();
}

void GrpcIngressConnection::release_api_call(InvokeServiceCall* call) {
  if (call->prev) call->prev->next = call->next;
  if (call->next) call->next->prev = call->prev;
  if (api_calls_ == call) api_calls_ = call->next;
  mem::pool_delete(svc_->io.pool, call);
}

bool GrpcIngressConnection::cancel_api_call(grpc::CallId id) {
  for (InvokeServiceCall* c = api_calls_; c; c = c->next) {
    if (c->id() != id) continue;
    c->cancel();
    release_api_call(c);
    return true;
  }
  return false;
}

void GrpcIngressConnection::complete(ServerCall* call, std::string_view response, int grpc_status,
                                     std::string_view grpc_message) {
  call->app_call = nullptr;
  svc_->timers.cancel(&call->deadline);
  grpc_.respond(call->id, {}, response, grpc_status, grpc_message, {});
  if (call->prev) call->prev->next = call->next;
  if (call->next) call->next->prev = call->prev;
  if (calls_ == call) calls_ = call->next;
  mem::pool_delete(svc_->io.pool, call);
  if (!in_feed_) pump();
}

grpc::CallMode GrpcIngressConnection::classify(std::string_view path,
                                               std::span<const grpc::Metadata>) {
  // Dapr's own unary methods are buffered; everything else may be any stream kind (proxied).
  if (port_ == GrpcPort::kInternal) {
    return path == kCallLocalPath ? grpc::CallMode::kUnary : grpc::CallMode::kStream;
  }
  return path == kInvokeServicePath || path == kGetMetadataPath ? grpc::CallMode::kUnary
                                                                 : grpc::CallMode::kStream;
}

void GrpcIngressConnection::on_stream_start(const grpc::StreamStart& s) {
  if (port_ == GrpcPort::kInternal && s.path == kCallLocalStreamPath) {
    // What stock daprd peers call first (spec §2.3).
    if (CallLocalStream* call = CallLocalStream::start(svc_, this, s)) {
      call->next = local_streams_;
      if (local_streams_) local_streams_->prev = call;
      local_streams_ = call;
    }
    pump();
    return;
  }
  if (GrpcProxyCall* call = GrpcProxyCall::start(svc_, this, port_ == GrpcPort::kApi, s)) {
    call->next = proxies_;
    if (proxies_) proxies_->prev = call;
    proxies_ = call;
  }
  pump();
}

GrpcProxyCall* GrpcIngressConnection::find_proxy(grpc::CallId id) const {
  for (GrpcProxyCall* c = proxies_; c; c = c->next) {
    if (c->inbound_id() == id) return c;
  }
  return nullptr;
}

CallLocalStream* GrpcIngressConnection::find_local_stream(grpc::CallId id) const {
  for (CallLocalStream* c = local_streams_; c; c = c->next) {
    if (c->id() == id) return c;
  }
  return nullptr;
}

void GrpcIngressConnection::release_local_stream(CallLocalStream* call) {
  if (call->prev) call->prev->next = call->next;
  if (call->next) call->next->prev = call->prev;
  if (local_streams_ == call) local_streams_ = call->next;
  mem::pool_delete(svc_->io.pool, call);
}

void GrpcIngressConnection::on_stream_data(grpc::CallId id, std::span<const uint8_t> bytes) {
  if (GrpcProxyCall* c = find_proxy(id)) {
    c->on_inbound_data(bytes);
  } else if (CallLocalStream* l = find_local_stream(id)) {
    l->on_data(bytes);  // acknowledges the bytes once the app socket can take more
  } else {
    grpc_.consume(id, bytes.size());  // answered already: drop, keep the window open
  }
}

void GrpcIngressConnection::on_stream_half_close(grpc::CallId id) {
  if (GrpcProxyCall* c = find_proxy(id)) {
    c->on_inbound_half_close();
  } else if (CallLocalStream* l = find_local_stream(id)) {
    l->on_half_close();
  }
}

void GrpcIngressConnection::on_stream_writable(grpc::CallId id) {
  if (GrpcProxyCall* c = find_proxy(id)) {
    c->on_inbound_writable();
  } else if (CallLocalStream* l = find_local_stream(id)) {
    l->on_writable();
  }
}

void GrpcIngressConnection::release_proxy(GrpcProxyCall* call) {
  if (call->prev) call->prev->next = call->next;
  if (call->next) call->next->prev = call->prev;
  if (proxies_ == call) proxies_ = call->next;
  mem::pool_delete(svc_->io.pool, call);
}

void GrpcIngressConnection::on_call_cancelled(grpc::CallId id) {
  if (GrpcProxyCall* c = find_proxy(id)) {
    c->on_inbound_cancelled();  // releases it
    return;
  }
  if (CallLocalStream* l = find_local_stream(id)) {
    l->on_cancelled();  // releases it
    return;
  }
  if (cancel_api_call(id)) return;
  for (ServerCall* c = calls_; c; c = c->next) {
    if (c->id != id) continue;
    if (c->app_call && svc_->app) svc_->app->cancel(c->app_call);
    svc_->timers.cancel(&c->deadline);
    if (c->prev) c->prev->next = c->next;
    if (c->next) c->next->prev = c->prev;
    if (calls_ == c) calls_ = c->next;
    mem::pool_delete(svc_->io.pool, c);
    return;
  }
}

void GrpcIngressConnection::on_closed(io::TcpConnection&, int) {
  tcp_ = nullptr;
  shard::ShardCounters::drop(svc_->counters->connections_open);
  grpc_.on_transport_closed();  // cancels every call still waiting (on_call_cancelled)
  while (calls_) on_call_cancelled(calls_->id);
  while (api_calls_) cancel_api_call(api_calls_->id());
  while (proxies_) proxies_->on_inbound_cancelled();
  while (local_streams_) local_streams_->on_cancelled();
  if (prev_live) prev_live->next_live = next_live;
  if (next_live) next_live->prev_live = prev_live;
  if (svc_->grpc_live == this) svc_->grpc_live = next_live;
  mem::pool_delete(svc_->io.pool, this);
}

}  // namespace ringside::invoke
