#pragma once
// PeerConnection: one pinned HTTP/2 connection of this shard to a peer sidecar's internal port
// (or to our gRPC app), multiplexing every call to it as streams: unary CallLocal / OnInvoke
// (start_call) and streaming calls (start_stream, for CallLocalStream and proxying). The gRPC
// client endpoint runs on a TCP stream through an http2::TransportLink, which flushes output
// after every operation. Created and owned by a PeerPool; frees itself when its stream closes.
#include <netinet/in.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "controlplane/snapshot/socket_address.h"
#include "dataplane/grpc/client_connection.h"
#include "dataplane/http2/transport_link.h"
#include "dataplane/runtime/shard_services.h"

namespace ringside::upstream {

class PeerPool;

// Whoever waits for a CallLocal result (an invocation).
class PeerCall {
 public:
  virtual ~PeerCall() = default;
  virtual void on_peer_result(const grpc::UnaryResult& r) = 0;
};

// Whoever owns a streaming call on a peer connection (a proxied gRPC call). Views are valid
// during the callback only.
class PeerStream {
 public:
  virtual ~PeerStream() = default;
  virtual void on_peer_headers(std::span<const grpc::Metadata> headers) = 0;
  virtual void on_peer_data(std::span<const uint8_t> bytes) = 0;
  virtual void on_peer_writable() = 0;
  // Exactly once unless cancelled.
  virtual void on_peer_end(int grpc_status, std::string_view grpc_message,
                           std::span<const grpc::Metadata> trailers, bool transport_error,
                           bool not_processed) = 0;
};

class PeerConnection final : public http2::TransportLink::Owner, public grpc::ClientHandler {
 public:
  PeerConnection(PeerPool* pool, invoke::ShardServices* svc, uint64_t key);
  bool start(const snapshot::SocketAddress& addr);
  bool usable() const;
  // Returns the stream id or 0 (then no callback will come).
  int32_t start_call(std::string_view path, std::string_view authority,
                     std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                     std::string_view message, PeerCall* call);
  void cancel(int32_t stream_id);
  void close();

  // Streaming calls (transparent gRPC proxying): the grpc::GrpcClientConnection stream API,
  // with this connection's output flushed after every operation.
  int32_t start_stream(std::string_view path, std::string_view authority,
                       std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                       PeerStream* stream);
  bool send_data(int32_t stream_id, std::span<const uint8_t> bytes);
  size_t queued_bytes(int32_t stream_id) const { return grpc_.queued_bytes(stream_id); }
  bool close_send(int32_t stream_id);
  void consume(int32_t stream_id, size_t n);

  // http2::TransportLink::Owner
  void on_link_connected(int err) override;
  void on_link_closed(int err) override;
  // grpc::ClientHandler
  void on_unary_complete(void* user, const grpc::UnaryResult& r) override;
  void on_stream_headers(void* user, std::span<const grpc::Metadata> headers) override;
  void on_stream_data(void* user, std::span<const uint8_t> bytes) override;
  void on_stream_writable(void* user) override;
  void on_stream_end(void* user, int grpc_status, std::string_view grpc_message,
                     std::span<const grpc::Metadata> trailers, bool transport_error,
                     bool not_processed) override;

  uint64_t key() const { return key_; }
  // The peer answered CallLocalStream with UNIMPLEMENTED (daprd before 1.10, spec §2.3): later
  // calls on this connection use unary CallLocal. A new connection asks again (peers upgrade).
  bool unary_only() const { return unary_only_; }
  void set_unary_only() { unary_only_ = true; }

 private:
  PeerPool* pool_;                 // the shard's pool this connection belongs to
  invoke::ShardServices* svc_;     // the shard
  uint64_t key_;                   // SocketAddress::key() of the peer
  grpc::GrpcClientConnection grpc_;  // the HTTP/2 client endpoint
  http2::TransportLink link_;      // grpc_ on the TCP stream
  bool connected_ = false;         // the TCP connect succeeded (else nothing reached the peer)
  bool unary_only_ = false;        // the peer does not serve CallLocalStream
};

}  // namespace ringside::upstream
