#pragma once
// BroadcastCall: one unary invocation sent to several instances at once (the `broadcast`
// cluster strategy). The encoded InternalInvokeRequest is held once, in one shard-pool buffer
// that every leg's CallLocal stream reads its DATA from (nghttp2 reads the bytes through the
// call's data provider: no per-instance copy in user space); it is released when the last leg
// has ended. Single shard: no atomics, no locks.
//
// The owner gets exactly one outcome:
// - the first leg whose peer sidecar answered OK with an app status of 2xx (HTTP app) or OK
//   (gRPC app) — delivered at once, while the other legs run to completion and their answers
//   are discarded (every instance receives the call);
// - when every leg has ended without such an answer: the first app answer (non-2xx / non-OK)
//   as it is, else an error text that lists each instance (address, cluster, what happened),
//   bounded in size.
// The object frees itself (deferred) after its last leg; the owner may detach() earlier (client
// gone), which cancels the legs still in flight.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "controlplane/snapshot/instance.h"
#include "dataplane/caller/broadcast_targets.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/upstream/peer_connection.h"

namespace ringside::invoke {

class BroadcastOwner {
 public:
  virtual ~BroadcastOwner() = default;
  // An encoded InternalInvokeResponse (valid during the call); `received`: instances the call
  // reached so far (see BroadcastCall::received()).
  virtual void on_broadcast_response(std::string_view internal_invoke_response, uint32_t received) = 0;
  // No instance answered: the text lists each one and what happened.
  virtual void on_broadcast_error(std::string_view error_text, uint32_t received) = 0;
};

class BroadcastCall {
 public:
  // Sends `request` (taken over) to every target as CallLocal. deadline_ns: the caller's
  // absolute deadline (0 = the peer pool's default per call). The outcome may be delivered
  // before start() returns; the returned pointer is then nullptr (the object may already be
  // gone). nullptr with no outcome delivered only when the shard pool is exhausted (the owner
  // fails the call).
  static BroadcastCall* start(ShardServices* svc, std::span<const snapshot::Instance* const> targets,
                              mem::Buffer&& request, int64_t deadline_ns, BroadcastOwner* owner,
                              bool* delivered);
  // The owner lost interest: no outcome is delivered; legs in flight are cancelled.
  void detach();

  BroadcastCall(ShardServices* svc, mem::Buffer&& request, BroadcastOwner* owner);
  ~BroadcastCall() = default;
  BroadcastCall(const BroadcastCall&) = delete;
  BroadcastCall& operator=(const BroadcastCall&) = delete;

 private:
  // One instance's CallLocal.
  struct Leg final : upstream::PeerCall {
    void on_peer_result(const grpc::UnaryResult& r) override { call->on_leg_result(this, r); }
    BroadcastCall* call = nullptr;             // the broadcast this leg belongs to
    upstream::PeerConnection* conn = nullptr;  // the connection carrying it (while in flight)
    int32_t stream = 0;                        // its stream id (0 = not in flight)
    uint64_t instance_id = 0;                  // the instance called (passive health)
    bool received = false;                     // the instance got the call (answered, or failed
                                               // after the peer may have processed it)
    char address[64] = {};                     // "host:port" (error texts; the table may change)
    char cluster[40] = {};                     // its cluster tag ("" = local)
  };

  void launch(Leg* leg, const snapshot::Instance& inst, int64_t deadline_ns);
  void on_leg_result(Leg* leg, const grpc::UnaryResult& r);
  // A leg failed: one entry of the error text.
  void note_failure(const Leg& leg, int grpc_code, std::string_view message);
  // The leg ended: the outcome when it was the last, then the object goes.
  void leg_done();
  uint32_t received() const;
  BroadcastOwner* take_owner();

  ShardServices* svc_;          // the shard
  mem::Buffer request_;         // the encoded InternalInvokeRequest every leg sends
  mem::Buffer first_answer_;    // the first app answer that was not a success (copied)
  BroadcastOwner* owner_;       // nullptr once the outcome is delivered or after detach()
  Leg legs_[kMaxBroadcastFanOut];  // legs_[0, leg_count_) are in use
  uint32_t leg_count_ = 0;      // legs launched
  uint32_t pending_ = 0;        // legs still in flight
  bool starting_ = false;       // start() is launching legs: no outcome before all are sent
  char errors_[1024] = {};      // "addr (cluster c): what; ..." of failed legs
  size_t errors_len_ = 0;       // bytes of errors_ in use
  uint32_t errors_left_out_ = 0;  // failures that did not fit in errors_
};

}  // namespace ringside::invoke
