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
  attempt_timer_.fn = &Invocation::on_attempt_timeout;
  attempt_timer_.owner = this;
}

Invocation::~Invocation() {
  if (broadcast_call_) broadcast_call_->detach();
  if (parked()) svc_->parked->unpark(this);
  svc_->timers.cancel(&retry_timer_);
  svc_->timers.cancel(&attempt_timer_);
}

bool Invocation::encode_request(const codec::InternalInvokeRequestFields& fields) {
  size_t size = codec::encoded_size(fields);
  request_.clear();
  body_ = {};
  if (!request_.reserve(size)) return false;
  codec::encode(fields, request_.tail());
  request_.commit(size);
  return true;
}

bool Invocation::encode_request_leaving_body(const codec::InternalInvokeRequestFields& fields,
                                             const mem::Buffer& body_owner) {
  const size_t body = codec::body_bytes(fields);
  const size_t size = codec::encoded_size(fields) - body;
  request_.clear();
  body_ = {};
  if (!request_.reserve(size)) return false;
  uint8_t* end = codec::encode_all_but_body(fields, request_.tail());
  request_.commit(static_cast<size_t>(end - request_.tail()));
  body_ = mem::BufferSlice::of(body_owner, fields.message.data.value.substr(0, body));
  return true;
}

bool Invocation::join_request() {
  if (body_.size == 0) return true;
  if (!request_.append(body_.view())) return false;
  body_ = {};
  return true;
}

void Invocation::start(std::string_view app_id, std::string_view ns, bool self_call,
                       bool replayable, InvocationOwner* owner) {
  owner_ = owner;
  stage_start_ns_ = shard::monotonic_ns();  // issue 11: resolve_pick (or app_round_trip) starts
  retries_ = 0;
  failed_count_ = 0;
  replayable_ = replayable;
  self_call_ = self_call;
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
  // Issue 10 (res): the target's Resiliency policy. It wraps self-invocations too, as daprd's
  // policy runner wraps directMessaging.Invoke whether the target is remote or our own app.
  policy_ = nullptr;
  builtin_plan_ = nullptr;
  breaker_key_ = 0;
  admitted_ = false;
  policy_retries_ = 0;
  started_ns_ = shard::monotonic_ns();  // exponential retries stop 15 min after this (daprd)
  if (svc_->settings->resiliency) {
    policy_ = svc_->settings->resiliency->find(app_id);
    // The built-in retry (and its override) applies when no spec.targets.apps entry does, and
    // never to our own app (daprd's invokeLocal has none).
    if (!self_call && (!policy_ || !policy_->from_target)) builtin_plan_ = svc_->settings->resiliency->builtin_retry();
    if (policy_ && policy_->has_breaker && svc_->settings->breakers && join_request() &&
        codec::decode_internal_invoke_request(request_.view(), &self_view_)) {
      breaker_key_ = resiliency::breaker_key(app_id, self_view_.message.method);
    }
  }
  begin_attempt();
}

void Invocation::attempt_self() {
  if (!svc_->app) {
    fail(13, "app channel is not initialized", false);
    return;
  }
  if (svc_->settings->app_unhealthy()) {  // issue 10: as daprd's app channel, our app never sees it
    fail(13, "app is not in a healthy state", false);
    return;
  }
  if (!join_request()) {
    fail(8, "out of memory", false);
    return;
  }
  codec::decode_internal_invoke_request(request_.view(), &self_view_);
  app_call_ = svc_->app->invoke(self_view_, this);
}

void Invocation::begin_attempt() {
  if (breaker_key_) {
    admission_ = svc_->settings->breakers->admit(breaker_key_, policy_->breaker, shard::monotonic_ns());
    if (!admission_.allowed) {
      // Open (or half-open with its probes out): answered at once, never retried (daprd: a
      // permanent error), and the peer is not reached.
      deliver_error(-1, admission_.refusal);
      return;
    }
    admitted_ = true;
  }
  if (policy_ && policy_->timeout_ns > 0) svc_->timers.arm(&attempt_timer_, shard::monotonic_ns() + policy_->timeout_ns);
  attempt();
}

void Invocation::on_attempt_timeout(void* self) {
  Invocation* inv = static_cast<Invocation*>(self);
  // The attempt is abandoned: its stream is reset (the peer sidecar then cancels the app call
  // and releases the app connection), a broadcast or a lookup wait is given up.
  if (inv->broadcast_call_) {
    inv->broadcast_call_->detach();
    inv->broadcast_call_ = nullptr;
  }
  if (inv->parked()) inv->svc_->parked->unpark(inv);
  if (inv->app_call_ && inv->svc_->app) {  // a self-invocation: the app call is given up
    inv->svc_->app->cancel(inv->app_call_);
    inv->app_call_ = nullptr;
  }
  inv->end_noted_call(lb::CallOutcome::kAbandoned);
  upstream::PeerConnection* peer = inv->peer_;
  const int32_t stream = inv->stream_;
  inv->peer_ = nullptr;
  inv->stream_ = 0;
  if (peer && stream) {
    inv->abandoning_ = true;
    peer->cancel(stream);
    inv->abandoning_ = false;
  }
  inv->fail(4, "context deadline exceeded", /*retryable=*/false, /*raw=*/true);
}

void Invocation::note_breaker(bool success) {
  if (!admitted_) return;
  admitted_ = false;
  svc_->settings->breakers->report(breaker_key_, admission_, success, policy_->breaker, shard::monotonic_ns());
}

bool Invocation::policy_retry_left() {
  const resiliency::RetryPlan& plan = policy_->retry;
  const int64_t max = plan.max_retries;
  if (!((max < 0 || policy_retries_ < max) && replayable_ && !no_more_retries_ && !svc_->draining)) return false;
  // The next wait, drawn now: daprd gives up when it would end past the elapsed-time cap.
  next_delay_ns_ = plan.jittered_delay_ns(static_cast<int>(std::min<int64_t>(policy_retries_ + 1, 64)), next_random());
  return !plan.exponential ||
         shard::monotonic_ns() - started_ns_ + next_delay_ns_ <= resiliency::RetryPlan::kMaxElapsedNs;
}

uint64_t Invocation::next_random() {
  // xorshift64* per shard thread, seeded once from the clock and the thread's own address.
  thread_local uint64_t state = static_cast<uint64_t>(shard::monotonic_ns()) ^
                                reinterpret_cast<uintptr_t>(&state) ^ 0x9E3779B97F4A7C15ull;
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1Dull;
}

void Invocation::schedule_policy_retry() {
  ++policy_retries_;
  // The next attempt avoids the instances that failed while another one is usable.
  if (failed_count_ < std::size(failed_)) failed_[failed_count_++] = instance_;
  shard::ShardCounters::bump(svc_->counters->peer_retries);
  svc_->timers.arm(&retry_timer_, shard::monotonic_ns() + next_delay_ns_);  // drawn by policy_retry_left()
}

void Invocation::deliver_error(int grpc_code, std::string_view text) {
  svc_->timers.cancel(&attempt_timer_);
  if (admitted_) {
    admitted_ = false;
    svc_->settings->breakers->release(breaker_key_, admission_);
  }
  if (InvocationOwner* o = finish()) o->on_invocation_error(grpc_code, text);
}

void Invocation::attempt() {
  if (self_call_) {
    attempt_self();
    return;
  }
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
  // Issue 10 (res): the peer also learns the policy's timeout (grpc-timeout), so it stops the
  // app call on its own should our reset not reach it.
  // The policy's value itself, not what is left of it: a constant grpc-timeout stays in the
  // HPACK tables of both ends (a new value per call would allocate there).
  if (policy_ && policy_->timeout_ns > 0 && (timeout_ns == 0 || policy_->timeout_ns < timeout_ns)) {
    timeout_ns = policy_->timeout_ns;
  }
  if (peer_) stream_ = peer_->start_call(kCallLocalPath, peer.authority, {}, timeout_ns, request_.view(), this, body_);
  if (peer_ && stream_) {
    svc_->counters->dapr.note_req_sent(app_id(), shard::InvokeType::kUnary);  // issue 11: daprd's req_sent
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
  // Issue 10 (res): the request buffer goes with the fan-out, so no policy retry follows it.
  no_more_retries_ = true;
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
  if (!join_request()) {  // the broadcast owns its bytes: it may outlive our caller's buffer
    fail(8, "out of memory", false);
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
  svc_->timers.cancel(&attempt_timer_);
  note_breaker(true);
  broadcast_received_ = received;
  if (InvocationOwner* o = finish()) o->on_invocation_response(internal_invoke_response);
}

void Invocation::on_broadcast_error(std::string_view error_text, uint32_t received) {
  broadcast_call_ = nullptr;
  svc_->timers.cancel(&attempt_timer_);
  note_breaker(false);
  broadcast_received_ = received;
  // The text lists each instance already; -1: delivered as it is (not as an rpc error).
  if (InvocationOwner* o = finish()) o->on_invocation_error(-1, error_text);
}

void Invocation::on_park_timeout() { fail(-1, "no host found with the given ID", /*retryable=*/false); }

void Invocation::on_retry_timer(void* self) {
  Invocation* inv = static_cast<Invocation*>(self);
  inv->stage_start_ns_ = shard::monotonic_ns();  // resolve_pick excludes the back-off wait
  inv->begin_attempt();  // issue 10 (res): breaker and timeout per attempt
}

void Invocation::end_noted_call(lb::CallOutcome outcome) {
  if (!call_noted_) return;
  call_noted_ = false;
  upstream::note_call_end(svc_, instance_, outcome);
}

void Invocation::on_peer_result(const grpc::UnaryResult& r) {
  if (abandoning_) return;  // issue 10 (res): the stream we reset after the attempt's timeout
  svc_->timers.cancel(&attempt_timer_);
  const int64_t done_ns = shard::monotonic_ns();
  svc_->counters->stages.record(shard::Stage::kPeerRoundTrip, done_ns - stage_start_ns_);
  // Issue 11: daprd's res_recv and res_recv_latency_ms (status: the CallLocal's gRPC code).
  svc_->counters->dapr.note_res_recv(app_id(), shard::InvokeType::kUnary, r.grpc_status, done_ns - stage_start_ns_);
  stage_start_ns_ = done_ns;  // a retry's resolve_pick starts here
  peer_ = nullptr;
  stream_ = 0;
  end_noted_call(upstream::outcome_of_grpc_status(r.grpc_status));
  if (r.grpc_status == 0) {
    if (policy_ && app_response_failed(r.message)) return;  // retried
    if (InvocationOwner* o = finish()) o->on_invocation_response(r.message);
    return;
  }
  if (policy_ && policy_->timeout_ns > 0 && r.grpc_status == 4) {
    // The peer (or our connection) enforced the grpc-timeout we sent: the same timeout.
    fail(4, "context deadline exceeded", /*retryable=*/false, /*raw=*/true);
    return;
  }
  // Only calls the peer provably did not process are replayed (never a call its app may have
  // seen), and only on Unavailable/Unauthenticated like daprd's built-in policy.
  bool retryable = (r.grpc_status == 14 || r.grpc_status == 16) && r.not_processed;
  fail(r.grpc_status, r.grpc_message, retryable);
}

void Invocation::on_app_response(std::string_view internal_invoke_response) {
  app_call_ = nullptr;
  svc_->timers.cancel(&attempt_timer_);
  const int64_t done_ns = shard::monotonic_ns();
  svc_->counters->stages.record(shard::Stage::kAppRoundTrip, done_ns - stage_start_ns_);
  stage_start_ns_ = done_ns;
  if (policy_ && app_response_failed(internal_invoke_response)) return;  // retried
  if (InvocationOwner* o = finish()) o->on_invocation_response(internal_invoke_response);
}

bool Invocation::app_response_failed(std::string_view internal_invoke_response) {
  // Issue 10 (res): with a policy, an HTTP app's status <200 or >399 is a failure: it counts for
  // the breaker and is retried when the retry policy matches it; otherwise (or when the retries
  // are spent) the client gets the app's answer as it is. gRPC apps' codes (<100) are not
  // failures here (spec §6.2). True when a retry was scheduled.
  codec::InternalInvokeResponseView resp;
  const int code = codec::decode_internal_invoke_response(internal_invoke_response, &resp) && resp.status.present
                       ? resp.status.code : 0;
  const bool app_failed = code >= 100 && (code < 200 || code > 399);
  note_breaker(!app_failed);
  if (app_failed && policy_->has_retry && policy_retry_left() && policy_->retry.retries_http(code)) {
    schedule_policy_retry();
    return true;
  }
  return false;
}

void Invocation::on_app_error(int grpc_code, std::string_view message) {
  app_call_ = nullptr;
  fail(grpc_code, message, /*retryable=*/false);
}

void Invocation::fail(int grpc_code, std::string_view message, bool retryable, bool raw) {
  svc_->timers.cancel(&attempt_timer_);
  note_breaker(false);
  if (policy_ && policy_->has_retry) {
    // Issue 10 (res): the user's retry policy replaces the built-in one. Lookup failures (-1)
    // are final; other failures are retried when gRPCStatusCodes (if given) matches the code;
    // the client sees the last failure as it is (no "after n retries" wrapping).
    if (grpc_code >= 0 && policy_retry_left() && policy_->retry.retries_grpc(grpc_code)) {
      schedule_policy_retry();
      return;
    }
    char rpc[1024];
    deliver_error(grpc_code, grpc_code < 0 || raw ? message : rpc_error_text(grpc_code, message, rpc));
    return;
  }
  if (raw) {  // a timeout without a retry policy ends the call
    deliver_error(grpc_code, message);
    return;
  }
  // The built-in retry applies to calls without a spec.targets.apps entry; a policy named
  // DaprBuiltInServiceRetries changes its back-off and count (spec §6.1).
  const bool builtin = !policy_ || !policy_->from_target;
  const int64_t max_builtin = builtin_plan_ ? builtin_plan_->max_retries : kBuiltInRetries;
  if (builtin && retryable && replayable_ && (max_builtin < 0 || retries_ < max_builtin) && !no_more_retries_ &&
      !svc_->draining) {
    ++retries_;
    if (failed_count_ < std::size(failed_)) failed_[failed_count_++] = instance_;
    shard::ShardCounters::bump(svc_->counters->peer_retries);
    // Another usable instance takes the retry at once (next loop turn); the 1 s wait stays for
    // a retry to the same or only instance (spec §6.1).
    std::string_view ns = target_.view().substr(app_id_len_);
    const bool elsewhere = upstream::another_instance_usable(svc_, app_id(), ns, std::span<const uint64_t>(failed_, failed_count_));
    if (elsewhere) shard::ShardCounters::bump(svc_->counters->lb_fast_retries);
    const int64_t backoff = builtin_plan_ ? builtin_plan_->jittered_delay_ns(retries_, next_random()) : kRetryBackoffNs;
    svc_->timers.arm(&retry_timer_, shard::monotonic_ns() + (elsewhere ? 0 : backoff));
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
  deliver_error(grpc_code, error);
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
  svc_->timers.cancel(&attempt_timer_);  // issue 10 (res)
  if (admitted_) {                       // the call ended without an outcome
    admitted_ = false;
    svc_->settings->breakers->release(breaker_key_, admission_);
  }
  svc_->parked->unpark(this);
  peer_ = nullptr;
  stream_ = 0;
  app_call_ = nullptr;
}

void Invocation::recycle(size_t keep_bytes) {
  request_.clear_keeping(keep_bytes);
  body_ = {};
}

}  // namespace ringside::invoke
