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
//
// A call to an app id the table has no answer for parks (shard::ParkedCalls) while the control
// plane looks it up: its path, metadata and target are copied to the shard pool, the caller's
// bytes are held unconsumed (so HTTP/2 flow control bounds them, and --max-body-size caps them),
// and the outbound stream opens when the table answers.
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/grpc/served_call.h"
#include "dataplane/grpc/server_connection.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/runtime/parked_calls.h"
#include "dataplane/upstream/lb/picker.h"
#include "dataplane/upstream/peer_pool.h"

#include "dataplane/resiliency/circuit_breakers.h"  // issue 10 (res)

namespace ringside::invoke {

struct ShardServices;

class GrpcProxyCall final : public grpc::ServedCall, public upstream::PeerStream, public shard::ParkedCall {
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

  // shard::ParkedCall (the target app id was being looked up)
  void on_table_changed() override;
  void on_park_timeout() override;

  GrpcProxyCall(ShardServices* svc, grpc::CallHost* in, grpc::CallId id);
  ~GrpcProxyCall() override;

 private:
  void finish();
  // Tells the picker the call to instance_ ended (least-request counts, outlier detection).
  void end_instance_call(lb::CallOutcome outcome);
  // Parks a new call for app_id/ns with what start() would have sent; answers and returns
  // nullptr when it cannot.
  static GrpcProxyCall* park_new(ShardServices* svc, grpc::CallHost* in, const grpc::StreamStart& s,
                                 std::string_view app_id, std::string_view ns,
                                 std::span<const grpc::Metadata> md);
  // Ends a parked call with a status.
  void fail_parked(int grpc_status, std::string_view message);
  // Issue 10 (res): the Resiliency circuit breaker of <appId>:<gRPC method>; false when it
  // refuses the call (open, or half-open with its probes out).
  bool admit_breaker(std::string_view app_id, std::string_view path);
  void release_breaker();

  ShardServices* svc_;
  grpc::CallHost* in_;                // the caller's connection
  grpc::CallId in_id_;                // the caller's call
  upstream::PeerConnection* out_ = nullptr;  // the backend connection
  int32_t out_id_ = 0;                // the backend stream
  size_t in_unconsumed_ = 0;          // caller bytes forwarded but not yet consumed (back-pressure)
  size_t out_unconsumed_ = 0;         // backend bytes forwarded but not yet consumed

  // While parked (waiting for a lookup): what start() would have sent, in the shard pool.
  mem::Buffer held_head_;             // path, app id, namespace, then metadata (length-prefixed)
  mem::Buffer held_data_;             // caller bytes received meanwhile (not yet consumed)
  size_t path_len_ = 0;               // bytes of the path at the start of held_head_
  size_t app_id_len_ = 0;             // then the app id
  size_t ns_len_ = 0;                 // then the namespace; metadata follows
  int64_t park_deadline_ = 0;         // when the wait gives up
  int64_t call_deadline_ = 0;         // the caller's grpc-timeout as an absolute time (0 = none)
  bool held_half_close_ = false;      // the caller finished sending while parked
  uint64_t instance_ = 0;             // peer instance whose call the picker counts (0 = none)
  uint64_t breaker_key_ = 0;          // issue 10 (res): <appId>:<method> hash; 0 = no breaker
  const resiliency::BreakerPlan* breaker_plan_ = nullptr;  // its parameters
  resiliency::Admission admission_;   // the breaker's answer
  bool admitted_ = false;             // admission_ awaits its outcome
};

}  // namespace ringside::invoke
