#pragma once
// GrpcProxyCall: one transparently proxied gRPC call (spec §4.3), any stream kind.
//
//   caller ──► [inbound stream, GrpcIngressConnection] ⇄ [outbound stream, PeerConnection] ──►
//              peer sidecar's internal port (remote app id) or our gRPC app (own app id)
//
// Bytes are forwarded as they arrive, gRPC framing untouched (no re-encoding). Flow control
// crosses the hop: bytes received on one side are consume()d (their HTTP/2 window reopened)
// only once the other side's send queue is below the high watermark; the rest is consumed when
// that side reports it is writable again. So a slow receiver back-pressures the sender through
// both sidecars and each call holds at most a window plus a watermark per direction.
// Headers are relayed when the backend sends them, trailers and status at the end; a cancel on
// either side resets the other.
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/grpc/server_connection.h"
#include "dataplane/pool/peer_pool.h"

namespace ringside::invoke {

class GrpcIngressConnection;
struct ShardServices;

class GrpcProxyCall final : public pool::PeerStream {
 public:
  // Routes and opens the outbound stream for a call that arrived on `in` (the API port when
  // `from_api`, else the internal port). Always answers the caller: on failure the inbound
  // call is ended with a gRPC status and nullptr is returned.
  static GrpcProxyCall* start(ShardServices* svc, GrpcIngressConnection* in, bool from_api,
                              const grpc::StreamStart& s);

  // Inbound events, forwarded by the ingress connection.
  void on_inbound_data(std::span<const uint8_t> bytes);
  void on_inbound_half_close();
  void on_inbound_writable();
  // The caller reset the call or its connection went away: reset the outbound stream.
  void on_inbound_cancelled();

  // pool::PeerStream (outbound events)
  void on_peer_headers(std::span<const grpc::Metadata> headers) override;
  void on_peer_data(std::span<const uint8_t> bytes) override;
  void on_peer_writable() override;
  void on_peer_end(int grpc_status, std::string_view grpc_message,
                   std::span<const grpc::Metadata> trailers, bool transport_error,
                   bool not_processed) override;

  grpc::CallId inbound_id() const { return in_id_; }
  GrpcProxyCall* next = nullptr;  // ingress connection's list links
  GrpcProxyCall* prev = nullptr;

  GrpcProxyCall(ShardServices* svc, GrpcIngressConnection* in, grpc::CallId id)
      : svc_(svc), in_(in), in_id_(id) {}

 private:
  void finish();

  ShardServices* svc_;
  GrpcIngressConnection* in_;         // the caller's connection
  grpc::CallId in_id_;                // the caller's call
  pool::PeerConnection* out_ = nullptr;  // the backend connection
  int32_t out_id_ = 0;                // the backend stream
  size_t in_unconsumed_ = 0;          // caller bytes forwarded but not yet consumed (back-pressure)
  size_t out_unconsumed_ = 0;         // backend bytes forwarded but not yet consumed
};

}  // namespace ringside::invoke
