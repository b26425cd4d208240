#pragma once
// BalancedAcceptor: a port's Listener::Handler on one shard (issue 11, shard balance). Each
// accepted connection goes to the shard with the fewest live connections of that port
// (shard::AcceptBalancer; one per port kind: internal port, HTTP API): served here, or passed to
// that shard's ring with IORING_OP_MSG_RING, where the target's instance of this class receives
// it in on_handoff and serves it. A handoff that fails (the target stopped, no free handoff
// slot) is served here instead, so every accepted connection is served exactly once.
#include <cstdint>

#include "dataplane/ingress/connection_cap.h"
#include "dataplane/io/listener.h"
#include "dataplane/io/operation.h"
#include "dataplane/runtime/accept_balancer.h"
#include "dataplane/runtime/shard_services.h"

namespace ringside::invoke {

class BalancedAcceptor final : public io::Listener::Handler {
 public:
  // Serves an accepted socket on this shard (the connection class's accept(): it closes fd when
  // it cannot, and the connection calls balancer->release() when it ends).
  using AcceptFn = bool (*)(ShardServices*, int fd);
  // balancer == nullptr (one shard): every connection is served here.
  // `refusal`: how this port answers a connection past --max-connections (connection_cap.h).
  BalancedAcceptor(ShardServices* svc, shard::AcceptBalancer* balancer, AcceptFn accept,
                   ConnectionRefusal refusal);
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
    BalancedAcceptor* self = nullptr;  // back pointer for the callback
    int fd = -1;               // the socket handed over; -1 = slot free
    int target = -1;           // the shard it was handed to
  };
  static constexpr int kPendingSlots = 16;  // handoffs in flight at once (accept bursts)

  static void on_handoff(void* self, int32_t fd, uint32_t flags);       // target side
  static void on_handoff_sent(void* pending, int32_t res, uint32_t flags);  // acceptor side
  void serve(int fd);  // on this shard, or closed while draining

  ShardServices* svc_;                  // this shard
  shard::AcceptBalancer* balancer_;     // shared by every shard; nullptr with one shard
  AcceptFn accept_;                     // the port's connection class
  ConnectionRefusal refusal_;           // the port's answer past --max-connections
  io::Operation handoff_op_;            // completions carrying a socket from another shard
  Pending pending_[kPendingSlots];      // our handoffs in flight
};

}  // namespace ringside::invoke
