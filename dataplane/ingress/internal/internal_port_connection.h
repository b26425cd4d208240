#pragma once
// InternalPortConnection: one h2c connection on the internal port, from a peer sidecar:
// /dapr.proto.internals.v1.ServiceInvocation/CallLocal (callee/call_local.h) and CallLocalStream
// (callee/call_local_stream.h), each delivered to our app over the app channel (spec §2, §4.4);
// any other method is a call proxied by the peer, delivered to our gRPC app (proxy/).
#include "dataplane/ingress/grpc_port_connection.h"
#include "dataplane/runtime/sidecar_settings.h"

namespace ringside::invoke {

class InternalPortConnection final : public GrpcPortConnection {
 public:
  // Serves an accepted socket; false (fd closed) when it cannot.
  static bool accept(ShardServices* svc, int fd);
  // Our SETTINGS name our shard count: a ringside caller then spreads its calls over one
  // connection per shard of ours (the accept balancer puts each on another shard).
  explicit InternalPortConnection(ShardServices* svc)
      : GrpcPortConnection(svc, svc->settings->internal_max_concurrent_streams, svc->settings->shard_count) {}
  // Uncounts the connection from this shard's share (BalancedAcceptor counted it).
  ~InternalPortConnection() override;

  // grpc::ServerHandler
  grpc::CallMode classify(std::string_view path, std::span<const grpc::Metadata> metadata) override;
  void on_unary_request(const grpc::UnaryRequest& req) override;
  void on_stream_start(const grpc::StreamStart& s) override;
};

}  // namespace ringside::invoke
