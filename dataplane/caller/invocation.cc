#include "dataplane/caller/invocation.h"

#include <algorithm>
#include <iterator>
#include <span>
#include <cstdio>

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/upstream/pool_dial_state.h"
#include "dataplane/upstream/call_health.h"
#include "dataplane/upstream/peer_choice.h"
#include "dataplane/mapping/rpc_error_text.h"

namespace ringside::invoke {
namespace {
constexpr std::string_view kCallLocalPath = "/dapr.proto.internals.v1.ServiceInvocation/CallLocal";
constexpr int kBuiltInRetries = 3;                  // spec §6.1
constexpr int64_t kRetryBackoffNs = 1'000'000'000;  // spec §6.1: constant 1 s
}  // namespace

Invocation::Invocation(ShardServices* svc)
    : svc_(svc), request_(svc->io.pool), target_(svc->io.pool) {
  retry_timer_.fn = &Invocation::on_retry_timer;
  retry_timer_.owner = this;
}

Invocation::~Invocation() {
  if (broadcast_call_) broadcast_call_->detach();
  if (parked()) svc_->parked->unpark(this);
  svc_->timers.cancel(&retry_timer_);
}

bool Invocation::encode_request(const codec::InternalInvokeRequestFields& fields) {
  size_t size = codec::encoded_size(fields);
  request_.clear();
  if (!request_.reserve(size)) return false;
  codec::encode(fields, request_.tail());
  request_.commit(size);
  return true;
}

void Invocation::start(std::string_view app_id, std::string_view ns, bool self_call,
                       bool replayable, InvocationOwner* owner) {
  owner_ = owner;
  stage_start_ns_ = shard::monotonic_ns();  // issue 11: resolve_pick (or app_round_trip) starts
  retries_ = 0;
  failed_count_ = 0;
  replayable_ = replayable;
  no_more_retries_ = false;
  park_deadline_ = 0;
  broadcast_used_ = false;
  broadcast_received_ = 0;
  target_.clear();
  if (!target_.append(app_id) || !target_.append(ns)) {
    fail(8, "out of memory", false);
    return;
  }
  app_id_len_ = app_id.size();
  if (self_call) {
    if (!svc_->app) {
      fail(13, "app channel is not initialized", false);
      return;
    }
    if (svc_->settings->app_unhealthy()) {  // issue 10: as daprd's app channel, our app never sees it
      fail(13, "app is not in a healthy state", false);
      return;
    }
    codec::decode_internal_invoke_request(request_.view(), &self_view_);
    app_call_ = svc_->app->invoke(self_view_, this);
    return;
  }
  attempt();
}

void Invocation::attempt() {
  std::string_view ns = target_.view().substr(app_id_len_);
  PeerChoice peer = choose_peer(svc_, app_id(), ns, std::span<const uint64_t>(failed_, failed_count_), hash_key_);
  instance_ = peer.instance_id;
  if (peer.outcome == PeerChoice::Outcome::kUnknown) {
    // The control plane is looking the app id up; the next table (or the bound) resumes us.
    if (park_deadline_ == 0) {
      park_deadline_ = shard::monotonic_ns() + svc_->settings->lookup_wait_ns;
      shard::ShardCounters::bump(svc_->counters->calls_parked);
    }
    svc_->parked->park(this, park_deadline_);
    return;
  }
  if (peer.outcome == PeerChoice::Outcome::kNoInstance) {
    fail(-1, "no host found with the given ID", /*retryable=*/false);
    return;
  }
  if (peer.outcome == PeerChoice::Outcome::kNoClusterInstance) {
    char text[512];
    fail(-1, cluster_refusal_text(peer, app_id(), text), /*retryable=*/false);
    return;
  }
  if (peer.outcome == PeerChoice::Outcome::kBroadcast) {
    start_broadcast(peer);
    return;
  }
  shard::ShardCounters::bump(svc_->counters->peer_calls);
  peer_ = peer.conn;
  // Issue 11 stage histograms: one clock read at each boundary.
  const int64_t picked_ns = shard::monotonic_ns();
  svc_->counters->stages.record(shard::Stage::kResolvePick, picked_ns - stage_start_ns_);
  int64_t timeout_ns = 0;
  if (deadline_ns_) timeout_ns = std::max<int64_t>(deadline_ns_ - picked_ns, 1);
  if (peer_) stream_ = peer_->start_call(kCallLocalPath, peer.authority, {}, timeout_ns, request_.view(), this);
  if (peer_ && stream_) {
    stage_start_ns_ = shard::monotonic_ns();
    svc_->counters->stages.record(shard::Stage::kPoolWait, stage_start_ns_ - picked_ns);
  }
  if (peer_) {
    upstream::note_call_start(svc_, instance_);
    call_noted_ = true;
  }
  if (!peer_ || !stream_) {
    end_noted_call(lb::CallOutcome::kFailure);
    peer_ = nullptr;
    stream_ = 0;
    // A full queue fails fast: retrying into it would only add load.
    fail(14, unavailable_text(peer), peer.outcome != PeerChoice::Outcome::kOverloaded);
  }
}

void Invocation::start_broadcast(const PeerChoice& peer) {
  std::string_view ns = target_.view().substr(app_id_len_);
  if (ns.empty()) ns = svc_->settings->app_namespace;
  // No usable instance in any cluster (all ejected or in dial back-off): the error every
  // strategy gives when it has nothing usable, naming the strategy. A broadcast never falls
  // back to one pick, nor to a panic fan-out.
  const upstream::PoolDialState dial(svc_->peers);
  const lb::PickRequest req{.app_id = app_id(), .app_namespace = ns, .dial = &dial, .now_ns = shard::monotonic_ns()};
  if (!svc_->picker || !lb::any_usable(*svc_->picker, req, svc_->snapshots->current()->find_pool(app_id(), ns).instances)) {
    char text[512];
    fail(-1, cluster_refusal_text(peer, app_id(), text), /*retryable=*/false);
    return;
  }
  BroadcastTarget targets[kMaxBroadcastFanOut];
  const size_t n = broadcast_targets(svc_, app_id(), ns, targets);
  if (n == 0) {  // choose_peer said kBroadcast, so the table lists instances: not expected
    fail(-1, "no host found with the given ID", /*retryable=*/false);
    return;
  }
  broadcast_used_ = true;
  bool delivered = false;
  BroadcastCall* call = BroadcastCall::start(svc_, std::span<const BroadcastTarget>(targets, n),
                                             std::move(request_), deadline_ns_, this, &delivered);
  request_ = mem::Buffer(svc_->io.pool);  // the broadcast owns the bytes until its last leg
  if (call) {
    broadcast_call_ = call;
  } else if (!delivered) {
    fail(8, "out of memory", false);
  }
}

void Invocation::on_broadcast_response(std::string_view internal_invoke_response, uint32_t received) {
  broadcast_call_ = nullptr;
  broadcast_received_ = received;
  if (InvocationOwner* o = finish()) o->on_invocation_response(internal_invoke_response);
}

void Invocation::on_broadcast_error(std::string_view error_text, uint32_t received) {
  broadcast_call_ = nullptr;
  broadcast_received_ = received;
  // The text lists each instance already; -1: delivered as it is (not as an rpc error).
  if (InvocationOwner* o = finish()) o->on_invocation_error(-1, error_text);
}

void Invocation::on_park_timeout() { fail(-1, "no host found with the given ID", /*retryable=*/false); }

void Invocation::on_retry_timer(void* self) {
  Invocation* inv = static_cast<Invocation*>(self);
  inv->stage_start_ns_ = shard::monotonic_ns();  // resolve_pick excludes the back-off wait
  inv->attempt();
}

void Invocation::end_noted_call(lb::CallOutcome outcome) {
  if (!call_noted_) return;
  call_noted_ = false;
  upstream::note_call_end(svc_, instance_, outcome);
}

void Invocation::on_peer_result(const grpc::UnaryResult& r) {
  const int64_t done_ns = shard::monotonic_ns();
  svc_->counters->stages.record(shard::Stage::kPeerRoundTrip, done_ns - stage_start_ns_);
  stage_start_ns_ = done_ns;  // a retry's resolve_pick starts here
  peer_ = nullptr;
  stream_ = 0;
  end_noted_call(upstream::outcome_of_grpc_status(r.grpc_status));
  if (r.grpc_status == 0) {
    if (InvocationOwner* o = finish()) o->on_invocation_response(r.message);
    return;
  }
  // Only calls the peer provably did not process are replayed (never a call its app may have
  // seen), and only on Unavailable/Unauthenticated like daprd's built-in policy.
  bool retryable = (r.grpc_status == 14 || r.grpc_status == 16) && r.not_processed;
  fail(r.grpc_status, r.grpc_message, retryable);
}

void Invocation::on_app_response(std::string_view internal_invoke_response) {
  app_call_ = nullptr;
  svc_->counters->stages.record(shard::Stage::kAppRoundTrip, shard::monotonic_ns() - stage_start_ns_);
  if (InvocationOwner* o = finish()) o->on_invocation_response(internal_invoke_response);
}

void Invocation::on_app_error(int grpc_code, std::string_view message) {
  app_call_ = nullptr;
  fail(grpc_code, message, /*retryable=*/false);
}

void Invocation::fail(int grpc_code, std::string_view message, bool retryable) {
  if (retryable && replayable_ && retries_ < kBuiltInRetries && !no_more_retries_ &&
      !svc_->draining) {
    ++retries_;
    if (failed_count_ < std::size(failed_)) failed_[failed_count_++] = instance_;
    shard::ShardCounters::bump(svc_->counters->peer_retries);
    // Another usable instance takes the retry at once (next loop turn); the 1 s wait stays for
    // a retry to the same or only instance (spec §6.1).
    std::string_view ns = target_.view().substr(app_id_len_);
    const bool elsewhere = upstream::another_instance_usable(svc_, app_id(), ns, std::span<const uint64_t>(failed_, failed_count_));
    if (elsewhere) shard::ShardCounters::bump(svc_->counters->lb_fast_retries);
    svc_->timers.arm(&retry_timer_, shard::monotonic_ns() + (elsewhere ? 0 : kRetryBackoffNs));
    return;
  }
  char rpc[1024];
  std::string_view error = grpc_code < 0 ? message : rpc_error_text(grpc_code, message, rpc);
  char text[1100];
  if (grpc_code >= 0 && retries_ > 0) {
    int n = snprintf(text, sizeof text, "failed to invoke target %.*s after %d retries. Error: %.*s",
                     static_cast<int>(app_id().size()), app_id().data(), retries_,
                     static_cast<int>(error.size()), error.data());
    error = std::string_view(text, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof text - 1) : 0);
  }
  if (InvocationOwner* o = finish()) o->on_invocation_error(grpc_code, error);
}

InvocationOwner* Invocation::finish() {
  InvocationOwner* o = owner_;
  owner_ = nullptr;
  deadline_ns_ = 0;
  return o;
}

void Invocation::cancel() {
  owner_ = nullptr;
  if (broadcast_call_) {
    broadcast_call_->detach();
    broadcast_call_ = nullptr;
  }
  end_noted_call(lb::CallOutcome::kAbandoned);
  deadline_ns_ = 0;
  if (peer_ && stream_) peer_->cancel(stream_);
  if (app_call_ && svc_->app) svc_->app->cancel(app_call_);
  svc_->timers.cancel(&retry_timer_);
  svc_->parked->unpark(this);
  peer_ = nullptr;
  stream_ = 0;
  app_call_ = nullptr;
}

void Invocation::recycle(size_t keep_bytes) {
  request_.clear();
  if (request_.capacity() > keep_bytes) request_.release();
}

}  // namespace ringside::invoke
