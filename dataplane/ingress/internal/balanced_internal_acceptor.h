#pragma once
// BalancedInternalAcceptor: the internal port's Listener::Handler on one shard. Each accepted
// peer connection goes to the shard with the fewest live internal connections
// (shard::AcceptBalancer): served here, or passed to that shard's ring with IORING_OP_MSG_RING,
// where this same class (the target's instance) receives it in on_handoff and serves it. A
// handoff that fails (the target stopped, no free handoff slot) is served here instead, so
// every accepted connection is served exactly once.
#include <cstdint>

#include "dataplane/io/listener.h"
#include "dataplane/io/operation.h"
#include "dataplane/runtime/accept_balancer.h"
#include "dataplane/runtime/shard_services.h"

namespace ringside::invoke {

class BalancedInternalAcceptor final : public io::Listener::Handler {
 public:
  // balancer == nullptr (one shard): every connection is served here.
  BalancedInternalAcceptor(ShardServices* svc, shard::AcceptBalancer* balancer);
  // From now on other shards may hand connections to this one.
  void open();
  // Shutdown began: no more handoffs to this shard (ours still go out while they can).
  void close();

  // io::Listener::Handler
  void on_accept(int fd) override;

 private:
  // A handoff in flight: its MSG_RING completion says whether the target got the fd.
  struct Pending {
    io::Operation op;          // the MSG_RING SQE's completion
    BalancedInternalAcceptor* self = nullptr;  // back pointer for the callback
    int fd = -1;               // the socket handed over; -1 = slot free
    int target = -1;           // the shard it was handed to
  };
  static constexpr int kPendingSlots = 16;  // handoffs in flight at once (accept bursts)

  static void on_handoff(void* self, int32_t fd, uint32_t flags);       // target side
  static void on_handoff_sent(void* pending, int32_t res, uint32_t flags);  // acceptor side
  void serve(int fd);  // on this shard, or closed while draining

  ShardServices* svc_;                  // this shard
  shard::AcceptBalancer* balancer_;     // shared by every shard; nullptr with one shard
  io::Operation handoff_op_;            // completions carrying a socket from another shard
  Pending pending_[kPendingSlots];      // our handoffs in flight
};

}  // namespace ringside::invoke
