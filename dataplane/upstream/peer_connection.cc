#include "dataplane/upstream/peer_connection.h"

#include <arpa/inet.h>

#include <cerrno>

#include "dataplane/io/tcp_connection.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/tls/credential_store.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::upstream {
namespace {
// grpc-go's words for the same failure (what a daprd caller would see in the error text).
constexpr std::string_view kKeepaliveFailed =
    "connection error: desc = \"keepalive ping failed to receive ACK within timeout\"";
// After a PING was answered, silence is the app's business: the next PING of the same silent
// stretch waits this long. grpc-go servers (daprd peers) count PINGs closer than their
// keepalive MinTime (default 5 min) while they send nothing, and answer the third such
// "strike" with GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings").
constexpr int64_t kAnsweredPingQuietNs = int64_t{300} * 1'000'000'000;
}  // namespace

PeerConnection::PeerConnection(PeerPool* pool, invoke::ShardServices* svc, uint64_t key)
    : pool_(pool),
      svc_(svc),
      key_(key),
      grpc_(svc->io.pool, this, static_cast<uint32_t>(svc->settings->max_body_size + 4096)),
      link_(&grpc_, this) {
  keepalive_.fn = &PeerConnection::on_keepalive_timer;
  keepalive_.owner = this;
  deadline_.fn = &PeerConnection::on_deadline_timer;
  deadline_.owner = this;
}

PeerConnection::~PeerConnection() {
  svc_->timers.cancel(&keepalive_);
  svc_->timers.cancel(&deadline_);
}

uint64_t expected_peer_hash(const ExpectedPeer& e) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;  // separator: ("ab","c") != ("a","bc")
  };
  mix(e.app_namespace);
  mix(e.app_id);
  return h;
}

bool PeerConnection::start(const snapshot::SocketAddress& addr, const ExpectedPeer* expect) {
  if (!grpc_.start()) return false;
  sockaddr_storage sa;
  socklen_t len = addr.to_sockaddr(&sa);
  if (len == 0) return false;
  io::ByteStream* stream = nullptr;
  if (expect && svc_->tls) {
    // Issue 10: mTLS to the peer sidecar; on_link_connected comes after the handshake and the
    // check that the callee's certificate names `expect`.
    expect_hash_ = upstream::expected_peer_hash(*expect);
    stream = tls::TlsStream::dial(&svc_->io, svc_->tls->ctx(), reinterpret_cast<const sockaddr*>(&sa), len, *expect, &link_,
                                  {&svc_->counters->tls_handshakes, &svc_->counters->tls_handshake_failures});
  } else {
    stream = io::TcpConnection::dial(&svc_->io, reinterpret_cast<const sockaddr*>(&sa), len, &link_);
  }
  if (!stream) return false;
  shard::ShardCounters::bump(svc_->counters->connections_open);
  if (pool_->counts_peers()) shard::ShardCounters::bump(svc_->counters->peer_dials);
  idle_since_ns_ = shard::monotonic_ns();
  link_.attach(stream);
  return true;
}

bool PeerConnection::usable() const { return !retired_ && link_.up() && grpc_.accepts_calls(); }

int64_t PeerConnection::arm_deadline(int64_t timeout_ns) {
  if (timeout_ns <= 0) return 0;
  int64_t deadline = shard::monotonic_ns() + timeout_ns;
  if (!deadline_.armed || deadline < deadline_.deadline_ns) svc_->timers.arm(&deadline_, deadline);
  return deadline;
}

int32_t PeerConnection::start_call(std::string_view path, std::string_view authority,
                                   std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                                   std::string_view message, PeerCall* call,
                                   mem::BufferSlice tail) {
  if (timeout_ns <= 0) timeout_ns = pool_->default_call_timeout_ns();
  int64_t deadline = arm_deadline(timeout_ns);
  int32_t id = grpc_.start_unary(path, authority, metadata, timeout_ns, message, call, deadline, tail);
  if (id) {
    on_call_started();
    link_.pump();
  }
  return id;
}

void PeerConnection::cancel(int32_t stream_id) {
  grpc_.cancel(stream_id);
  link_.pump();
  on_call_ended();
}

int32_t PeerConnection::start_stream(std::string_view path, std::string_view authority,
                                     std::span<const grpc::Metadata> metadata, int64_t timeout_ns,
                                     PeerStream* stream, bool default_deadline) {
  if (timeout_ns <= 0 && default_deadline) timeout_ns = pool_->default_call_timeout_ns();
  int64_t deadline = arm_deadline(timeout_ns);
  int32_t id = grpc_.start_stream(path, authority, metadata, timeout_ns, stream, deadline);
  if (id) {
    on_call_started();
    link_.pump();
  }
  return id;
}

bool PeerConnection::send_data(int32_t stream_id, std::span<const uint8_t> bytes) {
  bool ok = grpc_.send_data(stream_id, bytes);
  link_.pump();
  return ok;
}

bool PeerConnection::send_data(int32_t stream_id, std::initializer_list<std::span<const uint8_t>> pieces) {
  bool ok = true;
  for (std::span<const uint8_t> piece : pieces) {
    if (!piece.empty()) ok = ok && grpc_.send_data(stream_id, piece);
  }
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
  if (grpc_status == 4 && !transport_error && pool_->counts_peers()) shard::ShardCounters::bump(svc_->counters->peer_deadlines);
  // Nothing reached the peer if the TCP connect never succeeded (see also never_heard()).
  static_cast<PeerStream*>(user)->on_peer_end(grpc_status, grpc_message, trailers, transport_error,
                                              not_processed || !connected_ || never_heard());
  on_call_ended();
}

void PeerConnection::close() {
  retired_ = true;
  link_.close();
}

void PeerConnection::on_link_connected(int err) {
  if (err == 0) {
    connected_ = true;
  } else if (err == tls::TlsStream::kHandshakeFailed) {
    // grpc-go's words, so a daprd-shaped caller sees the familiar text.
    close_reason_ = "connection error: desc = \"transport: authentication handshake failed\"";
  } else if (err == tls::TlsStream::kWrongPeer) {
    close_reason_ = "connection error: desc = \"transport: authentication handshake failed: the peer's "
                    "certificate does not name the app id called\"";
  }
}

void PeerConnection::on_link_closed(int err) {
  shard::ShardCounters::drop(svc_->counters->connections_open);
  svc_->timers.cancel(&keepalive_);
  svc_->timers.cancel(&deadline_);
  retired_ = true;
  bool never_connected = err == -ECONNREFUSED || err == -ETIMEDOUT || err == -EHOSTUNREACH ||
                         err == -ENETUNREACH || err == -ECANCELED ||
                         err == tls::TlsStream::kHandshakeFailed || err == tls::TlsStream::kWrongPeer;
  // Leave the pool first: completions below may start retries that must dial afresh.
  pool_->forget(this, never_connected && !connected_);
  grpc_.on_transport_closed(close_reason_);
  svc_->deferred->release(this);  // its stream is gone; callers may still be unwinding
}

void PeerConnection::on_unary_complete(void* user, const grpc::UnaryResult& r) {
  if (r.grpc_status == 4 && !r.transport_error && pool_->counts_peers()) shard::ShardCounters::bump(svc_->counters->peer_deadlines);
  if (!connected_ || never_heard()) {
    // HEADERS may have been serialised into our output, but no byte reached the peer (or the
    // peer never served the connection: never_heard()).
    grpc::UnaryResult copy = r;
    copy.not_processed = true;
    static_cast<PeerCall*>(user)->on_peer_result(copy);
  } else {
    static_cast<PeerCall*>(user)->on_peer_result(r);
  }
  on_call_ended();
}

void PeerConnection::on_call_started() {
  if (keepalive_.armed || ping_outstanding_) return;
  frames_seen_ = grpc_.frames_received();
  svc_->timers.arm(&keepalive_, shard::monotonic_ns() + pool_->keepalive_interval_ns());
}

void PeerConnection::on_call_ended() {
  if (grpc_.active_calls() == 0) idle_since_ns_ = shard::monotonic_ns();
}

void PeerConnection::on_keepalive_timer(void* self) {
  auto* c = static_cast<PeerConnection*>(self);
  if (!c->link_.up()) return;  // closing: on_link_closed() ends the calls
  const uint64_t frames = c->grpc_.frames_received();
  const int64_t now = shard::monotonic_ns();
  if (frames != c->frames_seen_) {
    // The peer spoke since the last check (a PING ACK included): alive.
    c->frames_seen_ = frames;
    c->ping_quiet_until_ns_ = c->ping_outstanding_ ? now + kAnsweredPingQuietNs : 0;
    c->ping_outstanding_ = false;
    if (c->grpc_.active_calls() > 0) c->svc_->timers.arm(&c->keepalive_, now + c->pool_->keepalive_interval_ns());
    return;
  }
  if (c->ping_outstanding_) {
    // Silent through a whole interval and the PING timeout: the peer is gone or stopped.
    shard::ShardCounters::bump(c->svc_->counters->peer_keepalive_failures);
    c->close_reason_ = kKeepaliveFailed;
    c->close();
    return;
  }
  if (c->grpc_.active_calls() == 0) return;  // idle: nothing can hang; the next call re-arms
  if (now < c->ping_quiet_until_ns_) {
    c->svc_->timers.arm(&c->keepalive_, now + c->pool_->keepalive_interval_ns());
    return;
  }
  c->ping_outstanding_ = c->grpc_.send_ping();
  c->link_.pump();
  if (c->ping_outstanding_) c->svc_->timers.arm(&c->keepalive_, now + c->pool_->keepalive_timeout_ns());
}

void PeerConnection::on_deadline_timer(void* self) {
  auto* c = static_cast<PeerConnection*>(self);
  const int64_t now = shard::monotonic_ns();
  size_t expired = 0;
  int64_t next = c->grpc_.expire_calls(now, &expired);
  if (expired) {
    c->link_.pump();  // the RST_STREAMs
    c->on_call_ended();
  }
  // A timer armed for a call that ended early finds the next deadline and re-arms for it.
  if (next && !c->deadline_.armed) c->svc_->timers.arm(&c->deadline_, next > now ? next : now + 1'000'000);
}

}  // namespace ringside::upstream
