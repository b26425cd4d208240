#include "dataplane/caller/broadcast_call.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/mapping/rpc_error_text.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/runtime/timer_list.h"
#include "dataplane/upstream/call_health.h"
#include "dataplane/upstream/peer_choice.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::invoke {
namespace {
constexpr std::string_view kCallLocalPath = "/dapr.proto.internals.v1.ServiceInvocation/CallLocal";

// Copies `s` into a fixed field, cut to fit (it only names the instance in error texts).
template <size_t N>
void copy_text(char (&dst)[N], std::string_view s) {
  const size_t n = std::min(s.size(), N - 1);
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

// The answer the caller wants: the peer sidecar answered and the app said 2xx (HTTP app; its
// status code travels as >= 100) or OK (gRPC app: 0).
bool app_succeeded(std::string_view internal_invoke_response) {
  codec::InternalInvokeResponseView r;
  if (!codec::decode_internal_invoke_response(internal_invoke_response, &r)) return false;
  const int32_t code = r.status.code;
  return code == 0 || (code >= 200 && code < 300);
}
}  // namespace

BroadcastCall::BroadcastCall(ShardServices* svc, mem::Buffer&& request, BroadcastOwner* owner)
    : svc_(svc), request_(std::move(request)), first_answer_(svc->io.pool), owner_(owner) {}

BroadcastCall* BroadcastCall::start(ShardServices* svc, std::span<const snapshot::Instance* const> targets,
                                    mem::Buffer&& request, int64_t deadline_ns, BroadcastOwner* owner,
                                    bool* delivered) {
  *delivered = false;
  auto* call = mem::pool_new<BroadcastCall>(svc->io.pool, svc, std::move(request), owner);
  if (!call) return nullptr;
  shard::ShardCounters::bump(svc->counters->broadcast_calls);
  call->starting_ = true;
  const size_t n = std::min(targets.size(), kMaxBroadcastFanOut);
  for (size_t i = 0; i < n; ++i) {
    Leg* leg = &call->legs_[call->leg_count_++];
    leg->call = call;
    ++call->pending_;
    call->launch(leg, *targets[i], deadline_ns);
  }
  call->starting_ = false;
  if (call->pending_ == 0) {
    // Every leg failed before anything was sent (no connection could be had).
    ++call->pending_;
    call->leg_done();
    *delivered = true;
    return nullptr;
  }
  if (!call->owner_) {
    // A leg answered while the others were being sent: delivered; the rest run on.
    *delivered = true;
    return nullptr;
  }
  return call;
}

void BroadcastCall::launch(Leg* leg, const snapshot::Instance& inst, int64_t deadline_ns) {
  copy_text(leg->address, inst.address_text);
  copy_text(leg->cluster, inst.cluster);
  leg->instance_id = inst.id;
  upstream::PeerPool::Miss miss = upstream::PeerPool::Miss::kNone;
  upstream::PeerConnection* conn = svc_->peers->get(inst.addr, &miss);
  if (!conn) {
    PeerChoice c;
    c.outcome = miss == upstream::PeerPool::Miss::kRefused ? PeerChoice::Outcome::kOverloaded
                                                           : PeerChoice::Outcome::kUnreachable;
    note_failure(*leg, 14, unavailable_text(c));
    leg_done();
    return;
  }
  shard::ShardCounters::bump(svc_->counters->peer_calls);
  int64_t timeout_ns = 0;
  if (deadline_ns) timeout_ns = std::max<int64_t>(deadline_ns - shard::monotonic_ns(), 1);
  // Every leg's DATA is read from the same request_ bytes (valid until the leg's result).
  leg->conn = conn;
  leg->stream = conn->start_call(kCallLocalPath, inst.address_text, {}, timeout_ns, request_.view(), leg);
  if (!leg->stream) {
    leg->conn = nullptr;
    note_failure(*leg, 14, "connection error: the peer sidecar took no new call");
    leg_done();
    return;
  }
  upstream::note_call_start(svc_, leg->instance_id);
}

void BroadcastCall::on_leg_result(Leg* leg, const grpc::UnaryResult& r) {
  leg->conn = nullptr;
  leg->stream = 0;
  upstream::note_call_end(svc_, leg->instance_id, upstream::outcome_of_grpc_status(r.grpc_status));
  if (r.grpc_status == 0) {
    leg->received = true;
    if (app_succeeded(r.message)) {
      if (BroadcastOwner* o = take_owner()) o->on_broadcast_response(r.message, received());
    } else if (first_answer_.empty() && !first_answer_.append(r.message)) {
      note_failure(*leg, 8, "out of memory keeping the app's answer");
    }
  } else {
    // The instance may have processed the call unless its peer said it did not, or the
    // connection never carried it.
    leg->received = !r.not_processed && !r.transport_error;
    note_failure(*leg, r.grpc_status, r.grpc_message);
  }
  leg_done();
}

void BroadcastCall::note_failure(const Leg& leg, int grpc_code, std::string_view message) {
  char rpc[256];
  std::string_view what = rpc_error_text(grpc_code, message, rpc);
  const size_t room = sizeof errors_ - errors_len_;
  int n = snprintf(errors_ + errors_len_, room, "%s%s (cluster %s): %.*s", errors_len_ ? "; " : "",
                   leg.address, leg.cluster[0] ? leg.cluster : "local", static_cast<int>(what.size()),
                   what.data());
  if (n < 0 || static_cast<size_t>(n) >= room) {
    errors_[errors_len_] = '\0';  // the entry did not fit: counted, not shown
    ++errors_left_out_;
    return;
  }
  errors_len_ += static_cast<size_t>(n);
}

void BroadcastCall::leg_done() {
  if (--pending_ > 0 || starting_) return;
  if (BroadcastOwner* o = take_owner()) {
    if (!first_answer_.empty()) {
      // Apps answered, none with success: the first answer as it is (its status tells).
      o->on_broadcast_response(first_answer_.view(), received());
    } else {
      char text[1400];
      int n = snprintf(text, sizeof text, "broadcast to %u instances, none succeeded: %.*s%s", leg_count_,
                       static_cast<int>(errors_len_), errors_, errors_left_out_ ? "; ..." : "");
      if (leg_count_ == 0) n = snprintf(text, sizeof text, "broadcast: no usable instance");
      o->on_broadcast_error(std::string_view(text, n > 0 ? std::min<size_t>(n, sizeof text - 1) : 0),
                            received());
    }
  }
  request_.release();
  first_answer_.release();
  svc_->deferred->release(this);
}

uint32_t BroadcastCall::received() const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < leg_count_; ++i) {
    const Leg& leg = legs_[i];
    // A leg still in flight counts once its connection is up: its request has been written.
    if (leg.received || (leg.stream != 0 && leg.conn && leg.conn->connected())) ++n;
  }
  return n;
}

BroadcastOwner* BroadcastCall::take_owner() {
  BroadcastOwner* o = owner_;
  owner_ = nullptr;
  return o;
}

void BroadcastCall::detach() {
  owner_ = nullptr;
  for (uint32_t i = 0; i < leg_count_; ++i) {
    Leg& leg = legs_[i];
    if (!leg.stream || !leg.conn) continue;
    upstream::note_call_end(svc_, leg.instance_id, lb::CallOutcome::kAbandoned);
    leg.conn->cancel(leg.stream);
    leg.conn = nullptr;
    leg.stream = 0;
    leg_done();
  }
}

}  // namespace ringside::invoke
