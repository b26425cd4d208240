#pragma once
// GrpcProxyCall: one transparently proxied gRPC call (spec §4.3), any stream kind.
//
//   caller ──► [inbound stream, a gRPC port's connection] ⇄ [outbound stream, PeerConnection] ──►
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

#include "dataplane/grpc/served_call.h"
#include "dataplane/grpc/server_connection.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::invoke {

struct ShardServices;

class GrpcProxyCall final : public grpc::ServedCall, public upstream::PeerStream {
 public:
  // Routes and opens the outbound stream for a call that arrived on `in` (the API port when
  // `from_api`, else the internal port). Always answers the caller: on failure the inbound
  // call is ended with a gRPC status and nullptr is returned.
  static GrpcProxyCall* start(ShardServices* svc, grpc::CallHost* in, bool from_api,
                              const grpc::StreamStart& s);

  // grpc::ServedCall: inbound events, routed by the connection the call arrived on.
  void on_inbound_data(std::span<const uint8_t> bytes) override;
  void on_inbound_half_close() override;
  void on_inbound_writable() override;
  // The caller reset the call or its connection went away: reset the outbound stream.
  void on_inbound_cancelled() override;

  // upstream::PeerStream (outbound events)
  void on_peer_headers(std::span<const grpc::Metadata> headers) override;
  void on_peer_data(std::span<const uint8_t> bytes) override;
  void on_peer_writable() override;
  void on_peer_end(int grpc_status, std::string_view grpc_message,
                   std::span<const grpc::Metadata> trailers, bool transport_error,
                   bool not_processed) override;

  GrpcProxyCall(ShardServices* svc, grpc::CallHost* in, grpc::CallId id)
      : grpc::ServedCall(id), svc_(svc), in_(in), in_id_(id) {}

 private:
  void finish();

  ShardServices* svc_;
  grpc::CallHost* in_;                // the caller's connection
  grpc::CallId in_id_;                // the caller's call
  upstream::PeerConnection* out_ = nullptr;  // the backend connection
  int32_t out_id_ = 0;                // the backend stream
  size_t in_unconsumed_ = 0;          // caller bytes forwarded but not yet consumed (back-pressure)
  size_t out_unconsumed_ = 0;         // backend bytes forwarded but not yet consumed
};

}  // namespace ringside::invoke
