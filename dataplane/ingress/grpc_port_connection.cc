#include "dataplane/ingress/grpc_port_connection.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "dataplane/io/tcp_connection.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/tls/credential_store.h"

namespace ringside::invoke {

namespace {
http2::SessionSettings session_settings(uint32_t max_streams) {
  http2::SessionSettings s;
  if (max_streams) s.max_concurrent_streams = max_streams;
  return s;
}
}  // namespace

GrpcPortConnection::GrpcPortConnection(ShardServices* svc, uint32_t max_streams)
    : svc_(svc),
      grpc_(svc->io.pool, this, static_cast<uint32_t>(svc->settings->max_body_size + 4096),
            session_settings(max_streams)),
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
  c->link_.attach(stream);  // our SETTINGS
  return true;
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
