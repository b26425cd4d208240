#include "dataplane/ingress/internal/internal_port_connection.h"

#include "dataplane/callee/call_local.h"
#include "dataplane/callee/call_local_stream.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/proxy/grpc_proxy.h"
#include "dataplane/runtime/accept_balancer.h"

namespace ringside::invoke {
namespace {
constexpr std::string_view kCallLocalPath = "/dapr.proto.internals.v1.ServiceInvocation/CallLocal";
constexpr std::string_view kCallLocalStreamPath =
    "/dapr.proto.internals.v1.ServiceInvocation/CallLocalStream";
}  // namespace

InternalPortConnection::~InternalPortConnection() {
  if (svc_->internal_balancer) svc_->internal_balancer->release(svc_->shard_index);
}

bool InternalPortConnection::accept(ShardServices* svc, int fd) {
  // Issue 10: with --enable-mtls every peer connection is mutual TLS (svc->tls set).
  return serve(svc, mem::pool_new<InternalPortConnection>(svc->io.pool, svc), fd, /*tls=*/svc->tls != nullptr);
}

grpc::CallMode InternalPortConnection::classify(std::string_view path,
                                                std::span<const grpc::Metadata>) {
  // CallLocal is buffered; everything else (CallLocalStream, proxied calls) streams.
  return path == kCallLocalPath ? grpc::CallMode::kUnary : grpc::CallMode::kStream;
}

void InternalPortConnection::on_unary_request(const grpc::UnaryRequest& req) {
  if (req.path != kCallLocalPath) {
    answer_unknown_method(req.id, req.path);  // classify() sends nothing else here
    return;
  }
  if (CallLocal* call = CallLocal::start(svc_, this, req)) adopt(call);
  link_.pump();
}

void InternalPortConnection::on_stream_start(const grpc::StreamStart& s) {
  if (s.path == kCallLocalStreamPath) {
    // What stock daprd peers call first (spec §2.3).
    if (CallLocalStream* call = CallLocalStream::start(svc_, this, s)) adopt(call);
  } else if (GrpcProxyCall* call = GrpcProxyCall::start(svc_, this, /*from_api=*/false, s)) {
    adopt(call);
  }
  link_.pump();
}

}  // namespace ringside::invoke
