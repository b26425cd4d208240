#pragma once
// GrpcPortConnection: what both gRPC ports of this sidecar share for one accepted h2c
// connection: the gRPC server endpoint on a TCP stream (http2::TransportLink), the calls being
// served on it (grpc::ServedCall, routed by CallId), graceful drain and teardown. The ports
// themselves differ only in which methods they serve:
//  - API port (--dapr-grpc-port): ingress/grpc/api_port_connection.h;
//  - internal port (peer sidecars): ingress/internal/internal_port_connection.h.
// Every object ending on this path (calls, the connection itself) goes through the shard's
// deferred release, so nothing is freed while one of its frames is on the stack.
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/grpc/served_call.h"
#include "dataplane/grpc/server_connection.h"
#include "dataplane/http2/transport_link.h"
#include "dataplane/tls/tls_stream.h"
#include "dataplane/runtime/live_connections.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/runtime/timer_list.h"

namespace ringside::invoke {

class GrpcPortConnection : public http2::TransportLink::Owner,
                           public grpc::ServerHandler,
                           public grpc::CallHost,
                           public shard::LiveConnection {
 public:
  ~GrpcPortConnection() override = default;

  // shard::LiveConnection
  void drain() override;
  void close_now() override { link_.close(); }

  // grpc::CallHost
  grpc::GrpcServerConnection& server() override { return grpc_; }
  void flush() override { link_.pump(); }
  void release(grpc::ServedCall* call) override;
  const tls::SpiffeId* caller_identity() const override;

  // grpc::ServerHandler: stream events and cancellations are routed to the call by id.
  void on_stream_data(grpc::CallId id, std::span<const uint8_t> bytes) override;
  void on_stream_half_close(grpc::CallId id) override;
  void on_stream_writable(grpc::CallId id) override;
  void on_call_cancelled(grpc::CallId id) override;

  // http2::TransportLink::Owner
  void on_link_closed(int err) override;

 protected:
  // max_streams: the SETTINGS_MAX_CONCURRENT_STREAMS we advertise (0 = http2's default).
  // advertised_shards: see http2::SessionSettings (0 = not sent).
  explicit GrpcPortConnection(ShardServices* svc, uint32_t max_streams = 0, uint32_t advertised_shards = 0);
  // Starts serving the accepted socket fd with c (made with pool_new). False: c is freed and
  // fd closed.
  // `tls`: over mTLS (the internal port with --enable-mtls; svc->tls set).
  static bool serve(ShardServices* svc, GrpcPortConnection* c, int fd, bool tls = false);
  // Starts routing events of call (already started) to it.
  void adopt(grpc::ServedCall* call);
  // Answers UNIMPLEMENTED "unknown method <path>" (a unary call nobody serves here).
  void answer_unknown_method(grpc::CallId id, std::string_view path);

  ShardServices* svc_;               // the shard
  grpc::GrpcServerConnection grpc_;  // the HTTP/2 server endpoint
  http2::TransportLink link_;        // grpc_ on the accepted TCP stream

 private:
  grpc::ServedCall* find(grpc::CallId id) const;
  // Issue 10, slowloris/idle limits (--http-header-timeout, --http-idle-timeout apply here
  // too): one timer per connection, checked when it fires, never moved per frame.
  void arm_limit_check(int64_t now_ns);
  static void on_limit_deadline(void* self);

  grpc::ServedCall* calls_ = nullptr;  // calls being served (intrusive list)
  shard::Timer limit_timer_;           // the next preface/header/idle check (arm_limit_check)
  int64_t accepted_ns_ = 0;            // CLOCK_MONOTONIC accept time: the preface is owed from it
  int64_t last_active_ns_ = 0;         // last check that saw a frame or an open call
  uint64_t frames_seen_ = 0;           // grpc_.frames_received() at that check
  bool idle_goaway_sent_ = false;      // idle GOAWAY(NO_ERROR) sent; closed at the next check
  tls::TlsStream* tls_ = nullptr;      // the TLS stream under link_ (mTLS), until it closes
};

}  // namespace ringside::invoke
