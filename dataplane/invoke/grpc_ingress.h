#pragma once
// GrpcIngressConnection: one h2c connection on a gRPC port of this sidecar.
//  - internal port: serves /dapr.proto.internals.v1.ServiceInvocation/CallLocal and
//    CallLocalStream (call_local_stream.h) from peer sidecars, delivering each call to our app
//    over the app channel (spec §2, §4.4);
//  - API port (--dapr-grpc-port): the Dapr gRPC API: InvokeService (invoke_service.h) and
//    GetMetadata (bytes precomputed at start-up); any other method with dapr-app-id metadata is
//    proxied transparently (grpc_proxy.h), without it answers UNIMPLEMENTED.
//  On the internal port, methods other than CallLocal are proxied calls from a peer sidecar,
//  delivered to our gRPC app.
#include <cstdint>

#include "dataplane/grpc/server_connection.h"
#include "dataplane/invoke/app_channel.h"
#include "dataplane/invoke/call_local_stream.h"
#include "dataplane/invoke/grpc_proxy.h"
#include "dataplane/invoke/invoke_service.h"
#include "dataplane/invoke/shard_services.h"
#include "dataplane/io/tcp_connection.h"

namespace ringside::invoke {

enum class GrpcPort { kInternal, kApi };

class GrpcIngressConnection final : public io::TcpConnection::Handler, public grpc::ServerHandler {
 public:
  static GrpcIngressConnection* accept(ShardServices* svc, GrpcPort port, int fd);
  GrpcIngressConnection(ShardServices* svc, GrpcPort port);
  // Shutdown: GOAWAY, let in-flight calls finish.
  void drain();
  // Forced shutdown: close now, whatever is in flight.
  void close_now() { if (tcp_) tcp_->close(); }

  // io::TcpConnection::Handler
  void on_data(io::TcpConnection& c, std::span<const uint8_t> bytes) override;
  void on_closed(io::TcpConnection& c, int err) override;
  // grpc::ServerHandler
  void on_unary_request(const grpc::UnaryRequest& req) override;
  void on_call_cancelled(grpc::CallId id) override;
  grpc::CallMode classify(std::string_view path, std::span<const grpc::Metadata> metadata) override;
  void on_stream_start(const grpc::StreamStart& s) override;
  void on_stream_data(grpc::CallId id, std::span<const uint8_t> bytes) override;
  void on_stream_half_close(grpc::CallId id) override;
  void on_stream_writable(grpc::CallId id) override;

  // For GrpcProxyCall: the server half of this connection, flushing, and the end of a call.
  grpc::GrpcServerConnection& server() { return grpc_; }
  void pump();
  void release_proxy(GrpcProxyCall* call);
  // For CallLocalStream: unlinks and frees a call that has ended.
  void release_local_stream(CallLocalStream* call);

  struct ServerCall;  // a CallLocal waiting for the app
  friend struct ServerCall;
  void complete(ServerCall* call, std::string_view response, int grpc_status,
                std::string_view grpc_message);
  // An InvokeService call has its answer: send it, and free the call unless its start() is
  // still on the stack (then serve_invoke_service frees it).
  void answer_api_call(InvokeServiceCall* call);

  GrpcIngressConnection* next_live = nullptr;  // shard's live list
  GrpcIngressConnection* prev_live = nullptr;

 private:
  void serve_call_local(const grpc::UnaryRequest& req);
  void serve_invoke_service(const grpc::UnaryRequest& req);
  void release_api_call(InvokeServiceCall* call);
  bool cancel_api_call(grpc::CallId id);
  GrpcProxyCall* find_proxy(grpc::CallId id) const;
  CallLocalStream* find_local_stream(grpc::CallId id) const;

  ShardServices* svc_;
  GrpcPort port_;
  io::TcpConnection* tcp_ = nullptr;
  grpc::GrpcServerConnection grpc_;
  ServerCall* calls_ = nullptr;   // calls waiting for the app (intrusive list)
  InvokeServiceCall* api_calls_ = nullptr;  // InvokeService calls in flight (intrusive list)
  GrpcProxyCall* proxies_ = nullptr;        // proxied calls in flight (intrusive list)
  CallLocalStream* local_streams_ = nullptr;  // CallLocalStream calls in flight (intrusive list)
  bool in_feed_ = false;          // feed() on the stack: pump once afterwards
};

}  // namespace ringside::invoke
