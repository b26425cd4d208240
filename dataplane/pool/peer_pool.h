#pragma once
// PeerPool: this shard's HTTP/2 connections to peer sidecars, one pinned connection per peer
// address, dialled lazily on first use and multiplexing every CallLocal to that peer as
// streams. A connection that is GOAWAY'd or failed stops taking calls; the next call dials a
// fresh one while the old one drains. Dial failures back off per address (dial storms help no
// one), so a dead peer costs a fast local error, not a connect per request.
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "dataplane/grpc/client_connection.h"
#include "dataplane/invoke/shard_services.h"
#include "dataplane/io/tcp_connection.h"

namespace ringside::pool {

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

class PeerPool;

class PeerConnection final : public io::TcpConnection::Handler, public grpc::ClientHandler {
 public:
  PeerConnection(PeerPool* pool, invoke::ShardServices* svc, uint64_t key);
  bool start(const sockaddr_in& addr);
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

  // io::TcpConnection::Handler
  void on_connected(io::TcpConnection& c, int err) override;
  void on_data(io::TcpConnection& c, std::span<const uint8_t> bytes) override;
  void on_closed(io::TcpConnection& c, int err) override;
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
  void pump();
  PeerPool* pool_;
  invoke::ShardServices* svc_;
  uint64_t key_;                   // ipv4 << 16 | port (network order pieces)
  io::TcpConnection* tcp_ = nullptr;
  grpc::GrpcClientConnection grpc_;
  bool broken_ = false;            // closing or failed: take no new calls
  bool connected_ = false;         // the TCP connect succeeded (else nothing reached the peer)
  bool in_feed_ = false;           // grpc_.feed() on the stack: defer pumping
  bool unary_only_ = false;        // the peer does not serve CallLocalStream
};

class PeerPool {
 public:
  explicit PeerPool(invoke::ShardServices* svc) : svc_(svc) {}
  // The connection to use for a call to ip:port (both network byte order), dialling if needed.
  // nullptr while the address is in dial back-off or when no connection can be made.
  PeerConnection* get(uint32_t ip_be, uint16_t port_be);
  // Closes every connection (shutdown).
  void close_all();
  size_t size() const { return by_addr_.size(); }

 private:
  friend class PeerConnection;
  void forget(PeerConnection* c, bool dial_failed);
  struct Entry {
    PeerConnection* conn = nullptr;   // current connection (nullptr while backing off)
    int64_t retry_after_ns = 0;       // no new dial before this (after a failed dial)
    int failures = 0;                 // consecutive failed dials
  };
  invoke::ShardServices* svc_;
  absl::flat_hash_map<uint64_t, Entry> by_addr_;
};

}  // namespace ringside::pool
