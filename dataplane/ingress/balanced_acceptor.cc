#include "dataplane/ingress/balanced_acceptor.h"

#include <unistd.h>


namespace ringside::invoke {

BalancedAcceptor::BalancedAcceptor(ShardServices* svc, shard::AcceptBalancer* balancer, AcceptFn accept,
                                   ConnectionRefusal refusal)
    : svc_(svc), balancer_(balancer), accept_(accept), refusal_(refusal) {
  handoff_op_ = {&BalancedAcceptor::on_handoff, this};
  for (Pending& p : pending_) {
    p.op = {&BalancedAcceptor::on_handoff_sent, &p};
    p.self = this;
  }
}

void BalancedAcceptor::open() {
  if (balancer_) balancer_->open(svc_->shard_index, svc_->io.ring->raw()->ring_fd, &handoff_op_);
}

void BalancedAcceptor::close() {
  if (balancer_) balancer_->open(svc_->shard_index, -1, nullptr);
}

void BalancedAcceptor::on_accept(int fd) {
  if (!balancer_) {
    if (!refuse_if_full(svc_, fd, refusal_)) accept_(svc_, fd);
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

void BalancedAcceptor::on_handoff(void* self, int32_t fd, uint32_t) {
  static_cast<BalancedAcceptor*>(self)->serve(fd);
}

void BalancedAcceptor::on_handoff_sent(void* pending, int32_t res, uint32_t) {
  auto* p = static_cast<Pending*>(pending);
  BalancedAcceptor* a = p->self;
  const int fd = p->fd;
  p->fd = -1;
  if (res < 0) {  // the target's ring is gone or full: the socket is still ours
    a->balancer_->move(p->target, a->svc_->shard_index);
    a->serve(fd);
  }
}

void BalancedAcceptor::serve(int fd) {
  if (svc_->draining) {
    // Shutting down: a connection handed over now would only be refused; the peer redials.
    ::close(fd);
    if (balancer_) balancer_->release(svc_->shard_index);
    return;
  }
  // Past --max-connections on the shard that would serve it (issue 10): refused at once.
  if (refuse_if_full(svc_, fd, refusal_)) {
    balancer_->release(svc_->shard_index);
    return;
  }
  // Counted on this shard; the connection's destructor releases the count (also when serving
  // fails).
  accept_(svc_, fd);
}

}  // namespace ringside::invoke
