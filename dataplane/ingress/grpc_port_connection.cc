#include "dataplane/ingress/grpc_port_connection.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "dataplane/io/tcp_connection.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/tls/credential_store.h"

namespace ringside::invoke {

namespace {
http2::SessionSettings session_settings(uint32_t max_streams, uint32_t advertised_shards) {
  http2::SessionSettings s;
  if (max_streams) s.max_concurrent_streams = max_streams;
  s.advertised_shards = advertised_shards;
  return s;
}
}  // namespace

GrpcPortConnection::GrpcPortConnection(ShardServices* svc, uint32_t max_streams, uint32_t advertised_shards)
    : svc_(svc),
      grpc_(svc->io.pool, this, static_cast<uint32_t>(svc->settings->max_body_size + 4096),
            session_settings(max_streams, advertised_shards)),
      link_(&grpc_, this) {}

bool GrpcPortConnection::serve(ShardServices* svc, GrpcPortConnection* c, int fd, bool tls) {
  if (!c) {
    ::close(fd);
    return false;
  }
  if (!c->grpc_.start()) {
    svc->deferred->release(c);
    ::close(fd);
    return false;
  }
  io::ByteStream* stream = nullptr;
  if (tls) {
    // Issue 10: the handshake runs on this loop; our SETTINGS wait for it in the TLS stream.
    c->tls_ = tls::TlsStream::accept(&svc->io, svc->tls->ctx(), fd, &c->link_,
                                    {&svc->counters->tls_handshakes, &svc->counters->tls_handshake_failures});
    stream = c->tls_;
  } else {
    stream = io::TcpConnection::adopt(&svc->io, fd, &c->link_);
  }
  if (!stream) {  // adopt/accept closed fd
    svc->deferred->release(c);
    return false;
  }
  shard::ShardCounters::bump(svc->counters->connections_open);
  svc->live.add(c);
  c->accepted_ns_ = c->last_active_ns_ = shard::monotonic_ns();
  c->limit_timer_.fn = &GrpcPortConnection::on_limit_deadline;
  c->limit_timer_.owner = c;
  c->arm_limit_check(c->accepted_ns_);  // the preface (after any TLS handshake) is owed from now
  c->link_.attach(stream);  // our SETTINGS
  return true;
}

// Issue 10 (docs/security.md "Limits"). The HTTP flags' values apply to the gRPC ports:
//  - header timeout: the client's preface + SETTINGS from accept, and a HEADERS frame's
//    END_HEADERS (CONTINUATION) from the block's first frame; else the connection is closed;
//  - idle timeout: no open call and no frame received for that long: GOAWAY(NO_ERROR) (grpc
//    clients reconnect on their next call), closed if the client stays silent for another
//    idle timeout (it never read the GOAWAY).
// The timer is a periodic check (every header timeout, or exactly at a pending deadline) so
// that frames cost nothing but a counter: a stalled header block is found within 1-2 header
// timeouts, idleness within the idle timeout plus one header timeout.
void GrpcPortConnection::arm_limit_check(int64_t now_ns) {
  const int64_t header_t = svc_->settings->http_header_timeout_ns;
  const int64_t idle_t = svc_->settings->http_idle_timeout_ns;
  int64_t at = 0;
  if (!grpc_.peer_settings_received() && header_t > 0) {
    at = accepted_ns_ + header_t;
  } else if (grpc_.header_block_since_ns() != 0 && header_t > 0) {
    at = grpc_.header_block_since_ns() + header_t;
  } else if (idle_goaway_sent_) {
    // A client that polls its socket acks our PING and nghttp2 ends the connection cleanly;
    // one that does not (grpc++'s sync API while idle) sees the GOAWAY with its next call, which
    // we still serve: only a client silent for another idle timeout is closed outright.
    at = now_ns + (idle_t > 0 ? idle_t : header_t);
  } else {
    int64_t tick = header_t > 0 ? header_t : idle_t;  // to catch a header block that begins
    if (idle_t > 0) tick = std::min(tick, std::max<int64_t>(last_active_ns_ + idle_t - now_ns, 1));
    if (tick > 0) at = now_ns + tick;
  }
  if (at > 0) {
    svc_->timers.arm(&limit_timer_, at);
  } else {
    svc_->timers.cancel(&limit_timer_);  // both limits off (0)
  }
}

void GrpcPortConnection::on_limit_deadline(void* self) {
  auto* c = static_cast<GrpcPortConnection*>(self);
  const int64_t now = shard::monotonic_ns();
  const int64_t header_t = c->svc_->settings->http_header_timeout_ns;
  const int64_t idle_t = c->svc_->settings->http_idle_timeout_ns;
  const bool preface_late = !c->grpc_.peer_settings_received() && header_t > 0 &&
                            now >= c->accepted_ns_ + header_t;
  const int64_t block = c->grpc_.header_block_since_ns();
  const bool headers_late = block != 0 && header_t > 0 && now >= block + header_t;
  if (preface_late || headers_late) {
    shard::ShardCounters::bump(c->svc_->counters->grpc_read_timeouts);
    c->link_.close();  // on_link_closed() cancels its calls and frees it
    return;
  }
  if (c->idle_goaway_sent_ && c->grpc_.active_calls() == 0) {  // the client had an idle
    c->link_.close();                                               // timeout to leave
    return;
  }
  if (c->grpc_.frames_received() != c->frames_seen_ || c->grpc_.active_calls() != 0) {
    c->frames_seen_ = c->grpc_.frames_received();
    c->last_active_ns_ = now;
  } else if (idle_t > 0 && now >= c->last_active_ns_ + idle_t) {
    shard::ShardCounters::bump(c->svc_->counters->grpc_idle_closed);
    c->idle_goaway_sent_ = true;
    c->drain();  // GOAWAY(NO_ERROR): the client reconnects for its next call
  }
  c->arm_limit_check(now);
}

void GrpcPortConnection::drain() {
  grpc_.shutdown();
  link_.pump();
}

void GrpcPortConnection::adopt(grpc::ServedCall* call) {
  if (call->released) return;  // answered (and released) before its start returned
  call->prev = nullptr;
  call->next = calls_;
  if (calls_) calls_->prev = call;
  calls_ = call;
  grpc_.set_host_data(call->id(), call);  // find() in O(1)
}

void GrpcPortConnection::release(grpc::ServedCall* call) {
  if (call->released) return;
  call->released = true;
  if (call->prev) call->prev->next = call->next;
  if (call->next) call->next->prev = call->prev;
  if (calls_ == call) calls_ = call->next;
  call->next = call->prev = nullptr;
  server().set_host_data(call->id(), nullptr);  // no event reaches it through find() any more
  svc_->deferred->release(call);
}

grpc::ServedCall* GrpcPortConnection::find(grpc::CallId id) const {
  // O(1) through the stream's user data (adopt() stored the call there) ...
  if (auto* c = static_cast<grpc::ServedCall*>(grpc_.host_data(id)); c && c->id() == id) return c;
  // ... else (the endpoint no longer knows the stream, e.g. while the transport closes) search.
  for (grpc::ServedCall* c = calls_; c; c = c->next) {
    if (c->id() == id) return c;
  }
  return nullptr;
}

void GrpcPortConnection::answer_unknown_method(grpc::CallId id, std::string_view path) {
  char msg[256];
  int n = snprintf(msg, sizeof msg, "unknown method %.*s", static_cast<int>(path.size()),
                   path.data());
  grpc_.respond(id, {}, {}, 12, std::string_view(msg, n > 0 ? std::min<size_t>(n, 255) : 0), {});
  link_.pump();
}

void GrpcPortConnection::on_stream_data(grpc::CallId id, std::span<const uint8_t> bytes) {
  if (grpc::ServedCall* c = find(id)) {
    c->on_inbound_data(bytes);  // consumes once forwarded
  } else {
    grpc_.consume(id, bytes.size());  // answered already: drop, keep the window open
  }
}

void GrpcPortConnection::on_stream_half_close(grpc::CallId id) {
  if (grpc::ServedCall* c = find(id)) c->on_inbound_half_close();
}

void GrpcPortConnection::on_stream_writable(grpc::CallId id) {
  if (grpc::ServedCall* c = find(id)) c->on_inbound_writable();
}

void GrpcPortConnection::on_call_cancelled(grpc::CallId id) {
  grpc::ServedCall* c = find(id);
  if (!c) return;
  c->on_inbound_cancelled();
  release(c);
}

const tls::SpiffeId* GrpcPortConnection::caller_identity() const {
  return tls_ ? tls_->peer_identity() : nullptr;
}

void GrpcPortConnection::on_link_closed(int) {
  svc_->timers.cancel(&limit_timer_);
  tls_ = nullptr;  // the stream is gone
  shard::ShardCounters::drop(svc_->counters->connections_open);
  grpc_.on_transport_closed();  // on_call_cancelled() for every call still being served
  while (calls_) {              // calls the endpoint had already finished with
    grpc::ServedCall* c = calls_;
    c->on_inbound_cancelled();
    release(c);
  }
  svc_->live.remove(this);
  svc_->deferred->release(this);
}

}  // namespace ringside::invoke
