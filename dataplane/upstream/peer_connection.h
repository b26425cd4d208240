#pragma once
// PeerConnection: one pinned HTTP/2 connection of this shard to a peer sidecar's internal port
// (or to our gRPC app), multiplexing every call to it as streams: unary CallLocal / OnInvoke
// (start_call) and streaming calls (start_stream, for CallLocalStream and proxying). The gRPC
// client endpoint runs on a TCP stream through an http2::TransportLink, which flushes output
// after every operation. Created and owned by a PeerPool (listed in its group for the peer
// from dial to close); frees itself (deferred) when its stream closes.
//
// Liveness and deadlines, on the shard's TimerList (two timers per connection, none per call):
// - keepalive: while calls are in flight, a connection that received nothing for the pool's
//   keepalive interval sends a PING; without any frame back within the keepalive timeout it is
//   closed and its calls fail UNAVAILABLE (a SIGSTOPped or partitioned peer cannot hang them).
// - deadlines: every call carries one (the caller's, else the pool's default for invocations);
//   one timer at the earliest ends overdue calls with DEADLINE_EXCEEDED after RST_STREAM(CANCEL).
#include <netinet/in.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "controlplane/snapshot/socket_address.h"
#include "dataplane/grpc/client_connection.h"
#include "dataplane/http2/transport_link.h"
#include "dataplane/tls/tls_stream.h"
#include "dataplane/upstream/legacy_peers.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/runtime/timer_list.h"

namespace ringside::upstream {

class PeerPool;

// Whom a peer sidecar's mTLS certificate must name (spec: "Client peer check").
using ExpectedPeer = tls::TlsStream::ExpectedPeer;
// FNV-1a of (namespace, app id): which identity a connection was dialled for.
uint64_t expected_peer_hash(const ExpectedPeer& e);

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
  ~PeerConnection() override;
  // `expect`: with mTLS (peer pools), the callee identity the TLS handshake must verify;
  // nullptr = plaintext.
  bool start(const snapshot::SocketAddress& addr, const ExpectedPeer* expect = nullptr);
  // expected_peer_hash() of what start() was given (0 = plaintext).
  uint64_t expected_peer_hash() const { return expect_hash_; }
  // Takes new calls: connected or connecting, not GOAWAY'd, stream ids left, not retired.
  bool usable() const;
  // timeout_ns: the caller's deadline from now (sent as grpc-timeout and enforced here);
  // 0 = the pool's default call timeout. Returns the stream id or 0 (then no callback will
  // come). The call may wait in nghttp2 for a free stream (the pool bounds how many do).
  // The message is `message` then `tail` (grpc::GrpcClientConnection::start_unary).
  int32_t start_call(std::string_view path, std::string_view authority,
                     std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                     std::string_view message, PeerCall* call, mem::BufferSlice tail = {});
  void cancel(int32_t stream_id);
  void close();

  // Streaming calls (transparent gRPC proxying): the grpc::GrpcClientConnection stream API,
  // with this connection's output flushed after every operation. timeout_ns 0 = no deadline
  // unless `default_deadline` (invocations: CallLocalStream), then the pool's default. A
  // proxied stream without grpc-timeout keeps none: gRPC streams may live as long as the app
  // wants (keepalive still ends them if the peer goes silent).
  int32_t start_stream(std::string_view path, std::string_view authority,
                       std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                       PeerStream* stream, bool default_deadline = false);
  bool send_data(int32_t stream_id, std::span<const uint8_t> bytes);
  // Queues the pieces in order as one run of bytes, then pumps once: nothing (no writable
  // callback, no other sender) can come between them, so a message split around its body
  // (codec::split_payload_message) stays whole on the stream.
  bool send_data(int32_t stream_id, std::initializer_list<std::span<const uint8_t>> pieces);
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
  // The TCP connect succeeded: bytes of a started call can have reached the peer.
  bool connected() const { return connected_; }
  // The connection ended before the peer sent a single frame. Servers send their SETTINGS first,
  // before reading any stream (RFC 9113 §3.4; ringside and grpc-go do so at accept), so a peer
  // that never spoke never served a call here: such calls are "not processed" and may be retried
  // safely. This is the case of a connection that landed in a closing listener's backlog (a
  // draining peer's SO_REUSEPORT socket) and was reset.
  bool never_heard() const { return grpc_.frames_received() == 0; }
  // Calls started and not yet ended (in flight or waiting for a stream).
  uint32_t active_calls() const { return static_cast<uint32_t>(grpc_.active_calls()); }
  // The stream limit the pool plans with (pool_policy.h planning_limit inputs).
  uint32_t peer_max_streams() const { return grpc_.peer_max_streams(); }
  bool settings_received() const { return grpc_.settings_received(); }
  // The callee's shard count when it is a ringside sidecar (its SETTINGS say); 0 otherwise.
  uint32_t peer_shards() const { return grpc_.peer_shards(); }
  // When the last call ended (monotonic ns); meaningful while active_calls() == 0.
  int64_t idle_since_ns() const { return idle_since_ns_; }
  // No new calls from now on (the pool closes it once idle).
  void retire() { retired_ = true; }
  bool retired() const { return retired_; }
  // The peer answered CallLocalStream with UNIMPLEMENTED (daprd before 1.10, spec §2.3): later
  // calls to its address, from every shard and connection, use unary CallLocal (legacy_peers.h).
  bool unary_only() const { return unary_only_ || g_legacy_peers.contains(key_); }
  void set_unary_only() {
    unary_only_ = true;
    g_legacy_peers.insert(key_);
  }

 private:
  PeerPool* pool_;                 // the shard's pool this connection belongs to
  invoke::ShardServices* svc_;     // the shard
  uint64_t key_;                   // SocketAddress::key() of the peer
  grpc::GrpcClientConnection grpc_;  // the HTTP/2 client endpoint
  http2::TransportLink link_;      // grpc_ on the TCP stream
  bool connected_ = false;         // the TCP connect succeeded (else nothing reached the peer)
  bool unary_only_ = false;        // the peer does not serve CallLocalStream
  uint64_t expect_hash_ = 0;       // mTLS: expected_peer_hash() of the identity dialled for

  friend class PeerPool;  // links the connection into its peer's group
  PeerConnection* prev_in_group_ = nullptr;  // PeerPool group list (older connection)
  PeerConnection* next_in_group_ = nullptr;  // PeerPool group list (newer connection)

  // Deadline of a call with caller timeout `timeout_ns` (0 = none): absolute, and what the
  // peer is told.
  int64_t arm_deadline(int64_t timeout_ns);
  // After a call started: keepalive ticks while calls are in flight.
  void on_call_started();
  // After a call ended (completed or cancelled): remember when the connection fell idle.
  void on_call_ended();
  static void on_keepalive_timer(void* self);
  static void on_deadline_timer(void* self);

  shard::Timer keepalive_;         // next keepalive check (armed while calls are in flight)
  shard::Timer deadline_;          // the earliest call deadline on this connection
  uint64_t frames_seen_ = 0;       // grpc_.frames_received() at the last keepalive check
  bool ping_outstanding_ = false;  // a keepalive PING was sent and nothing came back yet
  int64_t ping_quiet_until_ns_ = 0;  // a PING was answered in this silent stretch: none before
  bool retired_ = false;           // takes no new calls (pool decision)
  int64_t idle_since_ns_ = 0;      // when active calls last dropped to 0
  std::string_view close_reason_ = "connection closed";  // what failed calls are told
};

}  // namespace ringside::upstream
