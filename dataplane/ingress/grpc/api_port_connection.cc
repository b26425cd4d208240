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

TokenCheck ApiPortConnection::check_token(std::span<const grpc::Metadata> metadata) const {
  const std::string_view expected = svc_->settings->dapr_api_token;
  if (expected.empty()) return TokenCheck::kOk;
  for (const grpc::Metadata& m : metadata) {
    if (m.key == kApiTokenKey) return check_api_token(expected, &m.value);  // the first value, as daprd
  }
  return check_api_token(expected, nullptr);
}

void ApiPortConnection::refuse(grpc::CallId id, TokenCheck why) {
  const SidecarSettings& s = *svc_->settings;
  const grpc::Metadata details{"grpc-status-details-bin", why == TokenCheck::kMissing
                                                               ? s.grpc_token_missing_details
                                                               : s.grpc_token_mismatch_details};
  grpc_.send_trailers(id, 16, "Unauthorized", std::span<const grpc::Metadata>(&details, 1));
  link_.pump();
}

grpc::CallMode ApiPortConnection::classify(std::string_view path,
                                           std::span<const grpc::Metadata> metadata) {
  // A call without the API token is refused at once, as a stream call (its body is not waited for).
  if (check_token(metadata) != TokenCheck::kOk) return grpc::CallMode::kStream;
  // Dapr's own unary methods are buffered; everything else may be any stream kind (proxied).
  return path == kInvokeServicePath || path == kGetMetadataPath ? grpc::CallMode::kUnary
                                                                 : grpc::CallMode::kStream;
}

void ApiPortConnection::on_unary_request(const grpc::UnaryRequest& req) {
  if (const TokenCheck t = check_token(req.metadata); t != TokenCheck::kOk) {
    refuse(req.id, t);  // classify() sends these as streams; kept for safety
    return;
  }
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
  if (const TokenCheck t = check_token(s.metadata); t != TokenCheck::kOk) {
    refuse(s.id, t);
    return;
  }
  if (GrpcProxyCall* call = GrpcProxyCall::start(svc_, this, /*from_api=*/true, s)) adopt(call);
  link_.pump();
}

}  // namespace ringside::invoke
