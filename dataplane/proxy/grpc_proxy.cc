#include "dataplane/proxy/grpc_proxy.h"

#include <cstdio>
#include <cstring>

#include "dataplane/upstream/peer_choice.h"
#include "dataplane/upstream/call_health.h"
#include "dataplane/upstream/request_hash_key.h"
#include "dataplane/grpc/stream_flow.h"
#include "dataplane/appchannel/grpc/grpc_app_channel.h"
#include "dataplane/mapping/access_control.h"
#include "dataplane/mapping/api_token.h"
#include "dataplane/mapping/header_rules.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/mapping/invoke_target.h"
#include "dataplane/mem/pool_object.h"

#include "dataplane/resiliency/policies.h"  // issue 10 (res)

namespace ringside::invoke {
namespace {
// A proxied gRPC call is a stream: the broadcast strategy (one buffered request to every
// instance) cannot carry it. FAILED_PRECONDITION rather than UNIMPLEMENTED: the configuration
// decides, and UNIMPLEMENTED would read as "the app has no such method".
constexpr int kBroadcastRejectCode = 9;
constexpr std::string_view kBroadcastUnaryOnlyProxy =
    "failed to proxy request: the broadcast cluster strategy of this app id serves unary calls "
    "only (InvokeService, /v1.0/invoke); proxied gRPC calls are streams";

constexpr size_t kMaxProxyMetadata = 128;  // metadata entries forwarded per call

std::string_view find_metadata(std::span<const grpc::Metadata> md, std::string_view key) {
  for (const auto& m : md) {
    if (m.key == key) return m.value;
  }
  return {};
}

// The trailer text when the cluster strategy leaves no instance (or is broadcast, which the
// proxy does not fan out), in the form of the "no host found" answer.
std::string_view cluster_failure_text(const PeerChoice& peer, std::string_view app_id, std::span<char> buf) {
  char reason[400];
  const std::string_view why = peer.outcome == PeerChoice::Outcome::kBroadcast
                                   ? std::string_view("cluster strategy broadcast is not supported for gRPC proxying")
                                   : cluster_refusal_text(peer, app_id, reason);
  const int k = snprintf(buf.data(), buf.size(), "failed to proxy request: %.*s", static_cast<int>(why.size()), why.data());
  return std::string_view(buf.data(), k > 0 ? std::min<size_t>(static_cast<size_t>(k), buf.size() - 1) : 0);
}

}  // namespace

// Issue 10 (res): a Resiliency timeout for the target app id shortens the call's deadline (the
// peer connection enforces it and the client gets DEADLINE_EXCEEDED); 0 = none.
// daprd's proxy returns gobreaker's error as it is: grpc-go makes it UNKNOWN with this text.
constexpr std::string_view kBreakerOpen = "circuit breaker is open";

static int64_t policy_timeout(ShardServices* svc, std::string_view app_id, int64_t timeout_ns) {
  if (!svc->settings->resiliency) return timeout_ns;
  const resiliency::TargetPolicy* p = svc->settings->resiliency->find(app_id);
  if (!p || p->timeout_ns <= 0) return timeout_ns;
  return timeout_ns == 0 || p->timeout_ns < timeout_ns ? p->timeout_ns : timeout_ns;
}

GrpcProxyCall* GrpcProxyCall::start(ShardServices* svc, grpc::CallHost* in, bool from_api,
                                    const grpc::StreamStart& s) {
  grpc::GrpcServerConnection& server = in->server();
  const SidecarSettings& settings = *svc->settings;
  // v1.16+ route on dapr-callee-app-id, older sidecars on dapr-app-id (spec §4.3).
  std::string_view target = find_metadata(s.metadata, "dapr-callee-app-id");
  if (target.empty()) target = find_metadata(s.metadata, "dapr-app-id");
  if (target.empty()) {
    // Not a proxied call: a method this sidecar does not serve (the rule; daprd
    // answers Unknown "failed to proxy request: required metadata ..." here, spec §4.3).
    char msg[256];
    int n = snprintf(msg, sizeof msg, "unknown method %.*s",
                     static_cast<int>(s.path.size() > 200 ? 200 : s.path.size()), s.path.data());
    server.send_trailers(s.id, 12, std::string_view(msg, n > 0 ? static_cast<size_t>(n) : 0), {});
    return nullptr;
  }
  std::string_view app_id, ns;
  if (!split_app_id(target, &app_id, &ns)) {
    char msg[256];
    int n = snprintf(msg, sizeof msg, "failed to proxy request: invalid app id %.*s",
                     static_cast<int>(target.size() > 200 ? 200 : target.size()), target.data());
    server.send_trailers(s.id, 2, std::string_view(msg, n > 0 ? static_cast<size_t>(n) : 0), {});
    return nullptr;
  }
  // The internal port only ever delivers to our own app; the API port forwards to the peer
  // unless the target is our own app id (namespace not compared, as daprd).
  bool local = !from_api || app_id == settings.app_id;
  if (!from_api && app_id != settings.app_id) {
    server.send_trailers(s.id, 2, "failed to proxy request: the call is not for this app", {});
    return nullptr;
  }
  // Delivered to our app from a peer: the access-control list decides first (spec §10; the
  // caller's identity from mTLS, none without it, so the global default).
  if (!from_api && settings.access_control &&
      !settings.access_control->allows(in->caller_identity(), s.path, http1::Verb::kNone)) {
    char text[512];
    server.send_trailers(s.id, 7, access_denied_text(in->caller_identity(), s.path, http1::Verb::kNone, text), {});
    return nullptr;
  }

  // Outbound metadata: everything the caller sent, plus our identity on calls we originate
  // (API port). Toward a peer sidecar both routing keys go along — v1.14/1.15 daprd routes on
  // dapr-app-id, v1.16+ on dapr-callee-app-id (spec §4.3); toward the app, dapr-app-id is
  // removed as daprd v1.16+ does.
  grpc::Metadata md[kMaxProxyMetadata];
  size_t n = 0;
  for (const auto& m : s.metadata) {
    if (n + 3 >= kMaxProxyMetadata) break;
    if (m.key == "dapr-app-id" || m.key == kApiTokenKey) continue;  // the token stays here
    if (from_api && (m.key == "dapr-caller-app-id" || m.key == "dapr-callee-app-id")) continue;
    md[n++] = m;
  }
  if (local && !settings.app_api_token.empty()) md[n++] = {kApiTokenKey, settings.app_api_token};
  if (from_api) {
    if (!local) md[n++] = {"dapr-app-id", target};
    md[n++] = {"dapr-caller-app-id", settings.app_id};
    md[n++] = {"dapr-callee-app-id", app_id};
  }

  upstream::PeerConnection* out = nullptr;
  std::string_view authority;
  uint64_t instance = 0;  // the peer instance (remote targets)
  if (local) {
    if (!svc->grpc_app) {
      server.send_trailers(s.id, 14,
                           settings.has_app ? "failed to proxy request: the app does not speak gRPC (--app-protocol)"
                                            : "failed to proxy request: app channel is not initialized",
                           {});
      return nullptr;
    }
    out = svc->grpc_app->connection();
    authority = settings.app_authority;
  } else if (cluster_strategy(svc, app_id) == snapshot::ClusterStrategy::kBroadcast) {
    shard::ShardCounters::bump(svc->counters->broadcast_rejected);
    server.send_trailers(s.id, kBroadcastRejectCode, kBroadcastUnaryOnlyProxy, {});
    return nullptr;
  } else {
    const uint64_t hash_key = upstream::request_hash_key(
        svc, app_id, ns, [&](std::string_view name) { return find_metadata(s.metadata, name); });
    PeerChoice peer = choose_peer(svc, app_id, ns, {}, hash_key);
    if (peer.outcome == PeerChoice::Outcome::kUnknown) {
      return park_new(svc, in, s, app_id, ns, std::span<const grpc::Metadata>(md, n));
    }
    if (peer.outcome == PeerChoice::Outcome::kNoInstance) {
      char msg[256];
      int k = snprintf(msg, sizeof msg, "failed to proxy request: no host found with the given ID %.*s",
                       static_cast<int>(app_id.size() > 200 ? 200 : app_id.size()), app_id.data());
      server.send_trailers(s.id, 2, std::string_view(msg, k > 0 ? static_cast<size_t>(k) : 0), {});
      return nullptr;
    }
    if (peer.outcome == PeerChoice::Outcome::kNoClusterInstance || peer.outcome == PeerChoice::Outcome::kBroadcast) {
      char msg[512];
      server.send_trailers(s.id, 2, cluster_failure_text(peer, app_id, msg), {});
      return nullptr;
    }
    out = peer.conn;
    authority = peer.authority;
    instance = peer.instance_id;
  }
  if (!out) {
    server.send_trailers(s.id, 14, "failed to proxy request: the target is not reachable", {});
    return nullptr;
  }
  auto* call = mem::pool_new<GrpcProxyCall>(svc->io.pool, svc, in, s.id);
  if (!call) {
    server.send_trailers(s.id, 8, "out of memory", {});
    return nullptr;
  }
  call->out_ = out;
  if (!local && !call->admit_breaker(app_id, s.path)) {  // issue 10 (res)
    mem::pool_delete(svc->io.pool, call);
    server.send_trailers(s.id, 2, kBreakerOpen, {});
    return nullptr;
  }
  call->out_id_ = out->start_stream(s.path, authority, std::span<const grpc::Metadata>(md, n),
                                    local ? s.timeout_ns : policy_timeout(svc, app_id, s.timeout_ns), call);
  if (!call->out_id_) {
    call->release_breaker();
    mem::pool_delete(svc->io.pool, call);
    server.send_trailers(s.id, 14, "failed to proxy request: cannot open a stream to the target", {});
    return nullptr;
  }
  // A call delivered to our own gRPC app is an app call (ringside_app_calls_total), not a peer's.
  shard::ShardCounters::bump(local ? svc->counters->app_calls : svc->counters->peer_calls);
  if (instance) {
    call->instance_ = instance;
    upstream::note_call_start(svc, instance);
  }
  return call;
}

GrpcProxyCall::GrpcProxyCall(ShardServices* svc, grpc::CallHost* in, grpc::CallId id)
    : grpc::ServedCall(id), svc_(svc), in_(in), in_id_(id), held_head_(svc->io.pool), held_data_(svc->io.pool) {}

bool GrpcProxyCall::admit_breaker(std::string_view app_id, std::string_view path) {
  if (!svc_->settings->resiliency || !svc_->settings->breakers) return true;
  const resiliency::TargetPolicy* p = svc_->settings->resiliency->find(app_id);
  if (!p || !p->has_breaker) return true;
  breaker_key_ = resiliency::breaker_key(app_id, path);
  breaker_plan_ = &p->breaker;
  admission_ = svc_->settings->breakers->admit(breaker_key_, *breaker_plan_, shard::monotonic_ns());
  if (!admission_.allowed) return false;
  admitted_ = true;
  return true;
}

void GrpcProxyCall::release_breaker() {
  if (!admitted_) return;
  admitted_ = false;
  svc_->settings->breakers->release(breaker_key_, admission_);
}

GrpcProxyCall::~GrpcProxyCall() {
  release_breaker();  // issue 10 (res): ended without an outcome
  if (parked()) svc_->parked->unpark(this);
  end_instance_call(lb::CallOutcome::kAbandoned);
}

namespace {

bool append_u32(mem::Buffer& b, uint32_t v) { return b.append(std::string_view(reinterpret_cast<const char*>(&v), sizeof v)); }

uint32_t read_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

GrpcProxyCall* GrpcProxyCall::park_new(ShardServices* svc, grpc::CallHost* in, const grpc::StreamStart& s,
                                       std::string_view app_id, std::string_view ns,
                                       std::span<const grpc::Metadata> md) {
  grpc::GrpcServerConnection& server = in->server();
  auto* call = mem::pool_new<GrpcProxyCall>(svc->io.pool, svc, in, s.id);
  if (!call) {
    server.send_trailers(s.id, 8, "out of memory", {});
    return nullptr;
  }
  mem::Buffer& h = call->held_head_;
  bool ok = h.append(s.path) && h.append(app_id) && h.append(ns);
  for (const grpc::Metadata& m : md) {
    ok = ok && append_u32(h, static_cast<uint32_t>(m.key.size())) && h.append(m.key) &&
         append_u32(h, static_cast<uint32_t>(m.value.size())) && h.append(m.value);
  }
  if (!ok) {
    mem::pool_delete(svc->io.pool, call);
    server.send_trailers(s.id, 8, "out of memory", {});
    return nullptr;
  }
  call->path_len_ = s.path.size();
  call->app_id_len_ = app_id.size();
  call->ns_len_ = ns.size();
  const int64_t now = shard::monotonic_ns();
  call->call_deadline_ = s.timeout_ns > 0 ? now + s.timeout_ns : 0;
  call->park_deadline_ = now + svc->settings->lookup_wait_ns;
  if (call->call_deadline_ && call->call_deadline_ < call->park_deadline_) call->park_deadline_ = call->call_deadline_;
  shard::ShardCounters::bump(svc->counters->calls_parked);
  svc->parked->park(call, call->park_deadline_);
  return call;
}

void GrpcProxyCall::fail_parked(int grpc_status, std::string_view message) {
  held_head_.release();
  held_data_.release();
  in_->server().send_trailers(in_id_, grpc_status, message, {});
  in_->flush();
  finish();
}

void GrpcProxyCall::on_park_timeout() {
  std::string_view app_id = held_head_.view().substr(path_len_, app_id_len_);
  char msg[256];
  int k = snprintf(msg, sizeof msg, "failed to proxy request: no host found with the given ID %.*s",
                   static_cast<int>(app_id.size() > 200 ? 200 : app_id.size()), app_id.data());
  fail_parked(2, std::string_view(msg, k > 0 ? static_cast<size_t>(k) : 0));
}

void GrpcProxyCall::on_table_changed() {
  const std::string_view head = held_head_.view();
  const std::string_view path = head.substr(0, path_len_);
  const std::string_view app_id = head.substr(path_len_, app_id_len_);
  const std::string_view ns = head.substr(path_len_ + app_id_len_, ns_len_);
  if (cluster_strategy(svc_, app_id) == snapshot::ClusterStrategy::kBroadcast) {
    shard::ShardCounters::bump(svc_->counters->broadcast_rejected);
    fail_parked(kBroadcastRejectCode, kBroadcastUnaryOnlyProxy);
    return;
  }
  PeerChoice peer = choose_peer(svc_, app_id, ns);
  if (peer.outcome == PeerChoice::Outcome::kUnknown) {
    svc_->parked->park(this, park_deadline_);
    return;
  }
  if (peer.outcome == PeerChoice::Outcome::kNoInstance) {
    on_park_timeout();  // the same answer, only sooner
    return;
  }
  if (peer.outcome == PeerChoice::Outcome::kNoClusterInstance || peer.outcome == PeerChoice::Outcome::kBroadcast) {
    char msg[512];
    fail_parked(2, cluster_failure_text(peer, app_id, msg));
    return;
  }
  if (!peer.conn) {
    fail_parked(14, "failed to proxy request: the target is not reachable");
    return;
  }
  grpc::Metadata md[kMaxProxyMetadata];
  size_t n = 0;
  const uint8_t* p = held_head_.data() + path_len_ + app_id_len_ + ns_len_;
  const uint8_t* end = held_head_.data() + held_head_.size();
  while (p < end && n < kMaxProxyMetadata) {
    uint32_t kl = read_u32(p);
    std::string_view key(reinterpret_cast<const char*>(p + 4), kl);
    p += 4 + kl;
    uint32_t vl = read_u32(p);
    md[n++] = {key, std::string_view(reinterpret_cast<const char*>(p + 4), vl)};
    p += 4 + vl;
  }
  int64_t timeout_ns = 0;
  if (call_deadline_) {
    timeout_ns = call_deadline_ - shard::monotonic_ns();
    if (timeout_ns <= 0) {
      fail_parked(4, "failed to proxy request: deadline exceeded while resolving the target");
      return;
    }
  }
  timeout_ns = policy_timeout(svc_, app_id, timeout_ns);  // issue 10 (res)
  if (!admit_breaker(app_id, path)) {
    fail_parked(2, kBreakerOpen);
    return;
  }
  out_id_ = peer.conn->start_stream(path, peer.authority, std::span<const grpc::Metadata>(md, n), timeout_ns, this);
  if (!out_id_) {
    release_breaker();
    fail_parked(14, "failed to proxy request: cannot open a stream to the target");
    return;
  }
  out_ = peer.conn;
  shard::ShardCounters::bump(svc_->counters->peer_calls);
  instance_ = peer.instance_id;
  upstream::note_call_start(svc_, instance_);
  held_head_.release();
  if (!held_data_.empty()) {
    // What the caller sent meanwhile goes now; its window reopens as the backend takes it.
    const size_t held = held_data_.size();
    const bool sent = out_->send_data(out_id_, held_data_.span());
    held_data_.release();
    if (!sent) {
      out_->cancel(out_id_);
      out_ = nullptr;
      in_->server().send_trailers(in_id_, 8, "proxy send queue overflow", {});
      in_->flush();
      finish();
      return;
    }
    if (out_->queued_bytes(out_id_) < grpc::kStreamHighWatermark) {
      in_->server().consume(in_id_, held);
      in_->flush();
    } else {
      in_unconsumed_ += held;
    }
  }
  if (held_half_close_) out_->close_send(out_id_);
}

void GrpcProxyCall::on_inbound_data(std::span<const uint8_t> bytes) {
  if (parked()) {
    // Held unconsumed: the caller's HTTP/2 window bounds it; --max-body-size caps it.
    if (held_data_.size() + bytes.size() > svc_->settings->max_body_size ||
        !held_data_.append(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))) {
      svc_->parked->unpark(this);
      fail_parked(8, "failed to proxy request: too much data while resolving the target");
    }
    return;
  }
  if (!out_) return;
  if (!out_->send_data(out_id_, bytes)) {
    // The backend refuses more (ended, or the caller ignores back-pressure beyond the hard limit).
    out_->cancel(out_id_);
    out_ = nullptr;
    in_->server().send_trailers(in_id_, 8, "proxy send queue overflow", {});
    finish();
    return;
  }
  if (out_->queued_bytes(out_id_) < grpc::kStreamHighWatermark) {
    in_->server().consume(in_id_, bytes.size());
  } else {
    in_unconsumed_ += bytes.size();
  }
}

void GrpcProxyCall::on_inbound_half_close() {
  if (parked()) held_half_close_ = true;
  if (out_) out_->close_send(out_id_);
}

void GrpcProxyCall::on_inbound_writable() {
  // The caller drained what the backend sent: reopen the backend's window for the rest.
  if (out_ && out_unconsumed_) {
    out_->consume(out_id_, out_unconsumed_);
    out_unconsumed_ = 0;
  }
}

void GrpcProxyCall::on_inbound_cancelled() {
  svc_->parked->unpark(this);
  if (out_) out_->cancel(out_id_);
  out_ = nullptr;
  finish();
}

void GrpcProxyCall::on_peer_headers(std::span<const grpc::Metadata> headers) {
  in_->server().send_headers(in_id_, headers);
  in_->flush();
}

void GrpcProxyCall::on_peer_data(std::span<const uint8_t> bytes) {
  grpc::GrpcServerConnection& server = in_->server();
  if (!server.send_data(in_id_, bytes)) {
    if (out_) out_->cancel(out_id_);
    out_ = nullptr;
    server.cancel(in_id_);
    in_->flush();
    finish();
    return;
  }
  if (server.queued_bytes(in_id_) < grpc::kStreamHighWatermark) {
    out_->consume(out_id_, bytes.size());
  } else {
    out_unconsumed_ += bytes.size();
  }
  in_->flush();
}

void GrpcProxyCall::on_peer_writable() {
  // The backend drained what the caller sent: reopen the caller's window for the rest.
  if (in_unconsumed_) {
    in_->server().consume(in_id_, in_unconsumed_);
    in_unconsumed_ = 0;
    in_->flush();
  }
}

void GrpcProxyCall::on_peer_end(int grpc_status, std::string_view grpc_message,
                                std::span<const grpc::Metadata> trailers, bool transport_error,
                                bool not_processed) {
  out_ = nullptr;
  if (admitted_) {  // issue 10 (res): any non-OK final status is a failure for the breaker
    admitted_ = false;
    svc_->settings->breakers->report(breaker_key_, admission_, grpc_status == 0, *breaker_plan_, shard::monotonic_ns());
  }
  // Only a transport failure speaks about the peer sidecar: statuses come from its app.
  end_instance_call(transport_error ? lb::CallOutcome::kFailure : lb::CallOutcome::kSuccess);
  if (transport_error) {
    char msg[160];
    int n = snprintf(msg, sizeof msg, "failed to proxy request: %.*s",
                     static_cast<int>(grpc_message.size() > 120 ? 120 : grpc_message.size()),
                     grpc_message.data());
    in_->server().send_trailers(in_id_, grpc_status, std::string_view(msg, n > 0 ? static_cast<size_t>(n) : 0),
                                trailers);
  } else {
    in_->server().send_trailers(in_id_, grpc_status, grpc_message, trailers);
  }
  (void)not_processed;
  in_->flush();
  finish();
}

void GrpcProxyCall::end_instance_call(lb::CallOutcome outcome) {
  if (!instance_) return;
  upstream::note_call_end(svc_, instance_, outcome);
  instance_ = 0;
}

void GrpcProxyCall::finish() {
  end_instance_call(lb::CallOutcome::kAbandoned);
  in_->release(this);
}

}  // namespace ringside::invoke
