#include "dataplane/pool/peer_pool.h"

#include <arpa/inet.h>

#include <cerrno>

#include "dataplane/invoke/sidecar_settings.h"
#include "dataplane/mem/pool_object.h"

namespace ringside::pool {

PeerConnection::PeerConnection(PeerPool* pool, invoke::ShardServices* svc, uint64_t key)
    : pool_(pool),
      svc_(svc),
      key_(key),
      grpc_(svc->io.pool, this, static_cast<uint32_t>(svc->settings->max_body_size + 4096)) {}

bool PeerConnection::start(const sockaddr_in& addr) {
  if (!grpc_.start()) return false;
  tcp_ = io::TcpConnection::dial(&svc_->io, addr, this);
  if (!tcp_) return false;
  shard::ShardCounters::bump(svc_->counters->connections_open);
  pump();
  return true;
}

bool PeerConnection::usable() const { return !broken_ && grpc_.can_start_call(); }

int32_t PeerConnection::start_call(std::string_view path, std::string_view authority,
                                   std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                                   std::string_view message, PeerCall* call) {
  int32_t id = grpc_.start_unary(path, authority, metadata, timeout_ns, message, call);
  if (id) pump();
  return id;
}

void PeerConnection::cancel(int32_t stream_id) {
  grpc_.cancel(stream_id);
  pump();
}

int32_t PeerConnection::start_stream(std::string_view path, std::string_view authority,
                                     std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                                     PeerStream* stream) {
  int32_t id = grpc_.start_stream(path, authority, metadata, timeout_ns, stream);
  if (id) pump();
  return id;
}

bool PeerConnection::send_data(int32_t stream_id, std::span<const uint8_t> bytes) {
  bool ok = grpc_.send_data(stream_id, bytes);
  pump();
  return ok;
}

bool PeerConnection::close_send(int32_t stream_id) {
  bool ok = grpc_.close_send(stream_id);
  pump();
  return ok;
}

void PeerConnection::consume(int32_t stream_id, size_t n) {
  grpc_.consume(stream_id, n);
  pump();
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

void PeerConnection::close() {
  broken_ = true;
  if (tcp_) tcp_->close();
}

void PeerConnection::pump() {
  // Inside feed() nghttp2 is on the stack: on_data pumps once it returns.
  if (in_feed_ || !tcp_ || tcp_->closing()) return;
  if (!grpc_.flush_to(&tcp_->out())) {
    broken_ = true;
    tcp_->close();
    return;
  }
  tcp_->flush();
  if (grpc_.wants_close()) {
    broken_ = true;
    tcp_->close_after_flush();
  }
}

void PeerConnection::on_connected(io::TcpConnection&, int err) {
  if (err) {
    broken_ = true;  // on_closed follows
  } else {
    connected_ = true;
  }
}

void PeerConnection::on_data(io::TcpConnection&, std::span<const uint8_t> bytes) {
  in_feed_ = true;
  bool ok = grpc_.feed(bytes.data(), bytes.size());
  in_feed_ = false;
  if (!ok) {
    broken_ = true;
    grpc_.flush_to(&tcp_->out());
    tcp_->close_after_flush();
    return;
  }
  pump();
}

void PeerConnection::on_closed(io::TcpConnection&, int err) {
  broken_ = true;
  tcp_ = nullptr;
  shard::ShardCounters::drop(svc_->counters->connections_open);
  bool never_connected = err == -ECONNREFUSED || err == -ETIMEDOUT || err == -EHOSTUNREACH ||
                         err == -ENETUNREACH || err == -ECANCELED;
  // Leave the pool first: completions below may start retries that must dial afresh.
  pool_->forget(this, never_connected);
  grpc_.on_transport_closed();
  mem::pool_delete(svc_->io.pool, this);
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

PeerConnection* PeerPool::get(uint32_t ip_be, uint16_t port_be) {
  uint64_t key = (uint64_t{ip_be} << 16) | port_be;
  Entry& e = by_addr_[key];
  if (e.conn && e.conn->usable()) return e.conn;
  if (e.conn) {
    // GOAWAY'd or failing: let it drain on its own; a new one takes the calls.
    e.conn = nullptr;
  }
  int64_t now = shard::monotonic_ns();
  if (now < e.retry_after_ns) return nullptr;
  auto* c = mem::pool_new<PeerConnection>(svc_->io.pool, this, svc_, key);
  if (!c) return nullptr;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = ip_be;
  addr.sin_port = port_be;
  e.conn = c;
  if (!c->start(addr)) {
    e.conn = nullptr;
    mem::pool_delete(svc_->io.pool, c);
    return nullptr;
  }
  return c;
}

void PeerPool::forget(PeerConnection* c, bool dial_failed) {
  auto it = by_addr_.find(c->key());
  if (it == by_addr_.end()) return;
  Entry& e = it->second;
  if (e.conn == c) e.conn = nullptr;
  if (dial_failed) {
    // 50 ms, 100 ms, ... capped at 1 s: the built-in retry (1 s apart) always gets a fresh dial.
    int shift = e.failures < 5 ? e.failures : 5;
    int64_t backoff = int64_t{50'000'000} << shift;
    if (backoff > 900'000'000) backoff = 900'000'000;
    e.retry_after_ns = shard::monotonic_ns() + backoff;
    ++e.failures;
  } else {
    e.failures = 0;
    e.retry_after_ns = 0;
  }
}

void PeerPool::close_all() {
  for (auto& [key, e] : by_addr_) {
    if (e.conn) e.conn->close();
  }
}

}  // namespace ringside::pool
