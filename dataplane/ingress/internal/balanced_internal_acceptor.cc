#include "dataplane/ingress/internal/balanced_internal_acceptor.h"

#include <unistd.h>

#include "dataplane/ingress/internal/internal_port_connection.h"

namespace ringside::invoke {

BalancedInternalAcceptor::BalancedInternalAcceptor(ShardServices* svc, shard::AcceptBalancer* balancer)
    : svc_(svc), balancer_(balancer) {
  handoff_op_ = {&BalancedInternalAcceptor::on_handoff, this};
  for (Pending& p : pending_) {
    p.op = {&BalancedInternalAcceptor::on_handoff_sent, &p};
    p.self = this;
  }
}

void BalancedInternalAcceptor::open() {
  if (balancer_) balancer_->open(svc_->shard_index, svc_->io.ring->raw()->ring_fd, &handoff_op_);
}

void BalancedInternalAcceptor::close() {
  if (balancer_) balancer_->open(svc_->shard_index, -1, nullptr);
}

void BalancedInternalAcceptor::on_accept(int fd) {
  if (!balancer_) {
    InternalPortConnection::accept(svc_, fd);
    return;
  }
  const int self = svc_->shard_index;
  const shard::AcceptBalancer::Target t = balancer_->assign(self);
  if (t.shard == self) {
    serve(fd);
    return;
  }
  for (Pending& p : pending_) {
    if (p.fd >= 0) continue;
    p.fd = fd;
    p.target = t.shard;
    // The target's completion: user_data = its handoff Operation, res = the socket.
    io_uring_sqe* s = svc_->io.ring->sqe(&p.op);
    io_uring_prep_msg_ring(s, t.ring_fd, static_cast<unsigned>(fd), reinterpret_cast<uint64_t>(t.handoff), 0);
    return;
  }
  balancer_->move(t.shard, self);  // every slot busy: an accept burst; serve it here
  serve(fd);
}

void BalancedInternalAcceptor::on_handoff(void* self, int32_t fd, uint32_t) {
  static_cast<BalancedInternalAcceptor*>(self)->serve(fd);
}

void BalancedInternalAcceptor::on_handoff_sent(void* pending, int32_t res, uint32_t) {
  auto* p = static_cast<Pending*>(pending);
  BalancedInternalAcceptor* a = p->self;
  const int fd = p->fd;
  p->fd = -1;
  if (res < 0) {  // the target's ring is gone or full: the socket is still ours
    a->balancer_->move(p->target, a->svc_->shard_index);
    a->serve(fd);
  }
}

void BalancedInternalAcceptor::serve(int fd) {
  if (svc_->draining) {
    // Shutting down: a connection handed over now would only be refused; the peer redials.
    ::close(fd);
    if (balancer_) balancer_->release(svc_->shard_index);
    return;
  }
  // Counted on this shard; ~InternalPortConnection releases the count (also when serving fails).
  InternalPortConnection::accept(svc_, fd);
}

}  // namespace ringside::invoke
