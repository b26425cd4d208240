#include "dataplane/upstream/peer_connection.h"

#include <arpa/inet.h>

#include <cerrno>

#include "dataplane/io/tcp_connection.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::upstream {

PeerConnection::PeerConnection(PeerPool* pool, invoke::ShardServices* svc, uint64_t key)
    : pool_(pool),
      svc_(svc),
      key_(key),
      grpc_(svc->io.pool, this, static_cast<uint32_t>(svc->settings->max_body_size + 4096)),
      link_(&grpc_, this) {}

bool PeerConnection::start(const snapshot::SocketAddress& addr) {
  if (!grpc_.start()) return false;
  sockaddr_storage sa;
  socklen_t len = addr.to_sockaddr(&sa);
  if (len == 0) return false;
  io::TcpConnection* tcp = io::TcpConnection::dial(&svc_->io, reinterpret_cast<const sockaddr*>(&sa), len, &link_);
  if (!tcp) return false;
  shard::ShardCounters::bump(svc_->counters->connections_open);
  link_.attach(tcp);
  return true;
}

bool PeerConnection::usable() const { return link_.up() && grpc_.can_start_call(); }

int32_t PeerConnection::start_call(std::string_view path, std::string_view authority,
                                   std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                                   std::string_view message, PeerCall* call) {
  int32_t id = grpc_.start_unary(path, authority, metadata, timeout_ns, message, call);
  if (id) link_.pump();
  return id;
}

void PeerConnection::cancel(int32_t stream_id) {
  grpc_.cancel(stream_id);
  link_.pump();
}

int32_t PeerConnection::start_stream(std::string_view path, std::string_view authority,
                                     std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                                     PeerStream* stream) {
  int32_t id = grpc_.start_stream(path, authority, metadata, timeout_ns, stream);
  if (id) link_.pump();
  return id;
}

bool PeerConnection::send_data(int32_t stream_id, std::span<const uint8_t> bytes) {
  bool ok = grpc_.send_data(stream_id, bytes);
  link_.pump();
  return ok;
}

bool PeerConnection::close_send(int32_t stream_id) {
  bool ok = grpc_.close_send(stream_id);
  link_.pump();
  return ok;
}

void PeerConnection::consume(int32_t stream_id, size_t n) {
  grpc_.consume(stream_id, n);
  link_.pump();
}

void PeerConnection::on_stream_headers(void* user, std::span<const grpc::Metadata> headers) {
  static_cast<PeerStream*>(user)->on_peer_headers(headers);
}

void PeerConnection::on_stream_data(void* user, std::span<const uint8_t> bytes) {
  static_cast<PeerStream*>(user)->on_peer_data(bytes);
}

void PeerConnection::on_stream_writable(void* user) {
  static_cast<PeerStream*>(user)->on_peer_writable();
}

void PeerConnection::on_stream_end(void* user, int grpc_status, std::string_view grpc_message,
                                   std::span<const grpc::Metadata> trailers, bool transport_error,
                                   bool not_processed) {
  // Nothing reached the peer if the TCP connect never succeeded.
  static_cast<PeerStream*>(user)->on_peer_end(grpc_status, grpc_message, trailers, transport_error,
                                              not_processed || !connected_);
}

void PeerConnection::close() { link_.close(); }

void PeerConnection::on_link_connected(int err) {
  if (err == 0) connected_ = true;
}

void PeerConnection::on_link_closed(int err) {
  shard::ShardCounters::drop(svc_->counters->connections_open);
  bool never_connected = err == -ECONNREFUSED || err == -ETIMEDOUT || err == -EHOSTUNREACH ||
                         err == -ENETUNREACH || err == -ECANCELED;
  // Leave the pool first: completions below may start retries that must dial afresh.
  pool_->forget(this, never_connected);
  grpc_.on_transport_closed();
  svc_->deferred->release(this);  // its stream is gone; callers may still be unwinding
}

void PeerConnection::on_unary_complete(void* user, const grpc::UnaryResult& r) {
  if (!connected_) {
    // HEADERS may have been serialised into our output, but no byte reached the peer.
    grpc::UnaryResult copy = r;
    copy.not_processed = true;
    static_cast<PeerCall*>(user)->on_peer_result(copy);
    return;
  }
  static_cast<PeerCall*>(user)->on_peer_result(r);
}

}  // namespace ringside::upstream
