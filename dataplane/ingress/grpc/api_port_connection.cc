#include "dataplane/ingress/grpc/api_port_connection.h"

#include "dataplane/ingress/grpc/invoke_service.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/proxy/grpc_proxy.h"
#include "dataplane/runtime/sidecar_settings.h"

namespace ringside::invoke {
namespace {
constexpr std::string_view kInvokeServicePath = "/dapr.proto.runtime.v1.Dapr/InvokeService";
constexpr std::string_view kGetMetadataPath = "/dapr.proto.runtime.v1.Dapr/GetMetadata";
}  // namespace

bool ApiPortConnection::accept(ShardServices* svc, int fd) {
  return serve(svc, mem::pool_new<ApiPortConnection>(svc->io.pool, svc), fd);
}

grpc::CallMode ApiPortConnection::classify(std::string_view path,
                                           std::span<const grpc::Metadata>) {
  // Dapr's own unary methods are buffered; everything else may be any stream kind (proxied).
  return path == kInvokeServicePath || path == kGetMetadataPath ? grpc::CallMode::kUnary
                                                                 : grpc::CallMode::kStream;
}

void ApiPortConnection::on_unary_request(const grpc::UnaryRequest& req) {
  if (req.path == kInvokeServicePath) {
    auto* call = mem::pool_new<InvokeServiceCall>(svc_->io.pool, svc_, this, req.id);
    if (!call) {
      grpc_.respond(req.id, {}, {}, 8, "out of memory", {});
      link_.pump();
      return;
    }
    adopt(call);     // first: the answer may come before start() returns
    call->start(req);
    return;
  }
  if (req.path == kGetMetadataPath) {
    grpc_.respond(req.id, {}, svc_->settings->grpc_metadata_response, 0, {}, {});
    link_.pump();
    return;
  }
  answer_unknown_method(req.id, req.path);  // classify() sends nothing else here
}

void ApiPortConnection::on_stream_start(const grpc::StreamStart& s) {
  if (GrpcProxyCall* call = GrpcProxyCall::start(svc_, this, /*from_api=*/true, s)) adopt(call);
  link_.pump();
}

}  // namespace ringside::invoke
