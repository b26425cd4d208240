#pragma once
// ApiPortConnection: one h2c connection on the gRPC API port (--dapr-grpc-port), the Dapr gRPC
// API our app calls: InvokeService (invoke_service.h) and GetMetadata (bytes precomputed at
// start-up); any other method with dapr-app-id metadata is proxied transparently
// (proxy/grpc_proxy.h), without it answers UNIMPLEMENTED. With DAPR_API_TOKEN set, every call
// without the token is refused before any of that.
#include "dataplane/ingress/grpc_port_connection.h"
#include "dataplane/mapping/api_token.h"

namespace ringside::invoke {

class ApiPortConnection final : public GrpcPortConnection {
 public:
  // Serves an accepted socket; false (fd closed) when it cannot.
  static bool accept(ShardServices* svc, int fd);
  explicit ApiPortConnection(ShardServices* svc) : GrpcPortConnection(svc) {}

  // grpc::ServerHandler
  grpc::CallMode classify(std::string_view path, std::span<const grpc::Metadata> metadata) override;
  void on_unary_request(const grpc::UnaryRequest& req) override;
  void on_stream_start(const grpc::StreamStart& s) override;

 private:
  // DAPR_API_TOKEN (spec §9): which answer a call with this metadata gets.
  TokenCheck check_token(std::span<const grpc::Metadata> metadata) const;
  // daprd's UNAUTHENTICATED "Unauthorized" with its ErrorInfo detail.
  void refuse(grpc::CallId id, TokenCheck why);
};

}  // namespace ringside::invoke
