#include "dataplane/io/tcp_connection.h"

#include <cstring>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "dataplane/io/socket.h"
#include "dataplane/mem/pool_object.h"

namespace ringside::io {
// Send buffers up to kept_send_bytes_ (64 KiB unless raised) stay with an idle connection
// (typical traffic needs no block per write); larger ones return to the shard pool once
// everything in them is sent.

void destroy_connection(TcpConnection* c) {
  mem::ShardPool* pool = c->io_->pool;
  c->~TcpConnection();
  pool->deallocate(c);
}

TcpConnection::TcpConnection(IoContext* io, int fd, Handler* handler)
    : io_(io), fd_(fd), handler_(handler), pending_(io->pool), sending_(io->pool) {
  recv_op_ = {&TcpConnection::on_recv_cqe, this};
  send_op_ = {&TcpConnection::on_send_cqe, this};
  connect_op_ = {&TcpConnection::on_connect_cqe, this};
  close_op_ = {&TcpConnection::on_close_cqe, this};
  flush_node_.run = &TcpConnection::on_turn_end;
  flush_node_.owner = this;
}

void TcpConnection::on_close_cqe(void* self, int32_t, uint32_t) {
  auto* c = static_cast<TcpConnection*>(self);
  --c->inflight_;
  c->maybe_finish();
}

TcpConnection* TcpConnection::adopt(IoContext* io, int fd, Handler* handler) {
  void* mem = io->pool->allocate(sizeof(TcpConnection));
  if (!mem) {
    ::close(fd);
    return nullptr;
  }
  auto* c = new (mem) TcpConnection(io, fd, handler);
  c->connected_ = true;
  c->arm_recv();
  return c;
}

TcpConnection* TcpConnection::dial(IoContext* io, const sockaddr* peer, socklen_t len, Handler* handler) {
  if (len > sizeof(sockaddr_storage)) return nullptr;
  int fd = new_client_socket(peer->sa_family);
  if (fd < 0) return nullptr;
  void* mem = io->pool->allocate(sizeof(TcpConnection));
  if (!mem) {
    ::close(fd);
    return nullptr;
  }
  auto* c = new (mem) TcpConnection(io, fd, handler);
  std::memcpy(&c->peer_, peer, len);
  c->peer_len_ = len;
  io_uring_sqe* s = io->ring->sqe(&c->connect_op_);
  io_uring_prep_connect(s, fd, reinterpret_cast<const sockaddr*>(&c->peer_), c->peer_len_);
  ++c->inflight_;
  return c;
}

void TcpConnection::arm_recv() {
  io_uring_sqe* s = io_->ring->sqe(&recv_op_);
  io_uring_prep_recv_multishot(s, fd_, nullptr, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = io_->buffers->group_id();
  recv_armed_ = true;
  ++inflight_;
}

void TcpConnection::on_connect_cqe(void* self, int32_t res, uint32_t) {
  auto* c = static_cast<TcpConnection*>(self);
  --c->inflight_;
  if (res < 0 || c->closing_) {
    int err = res < 0 ? res : -ECANCELED;
    c->handler_->on_connected(*c, err);
    c->fail(err);
  } else {
    c->connected_ = true;
    if (!c->recv_paused_) c->arm_recv();
    c->handler_->on_connected(*c, 0);
    if (!c->closing_) c->flush();
    if (c->close_after_flush_ && c->send_idle()) c->close();  // queue emptied meanwhile
  }
  c->maybe_finish();
}

void TcpConnection::on_recv_cqe(void* self, int32_t res, uint32_t flags) {
  auto* c = static_cast<TcpConnection*>(self);
  bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    --c->inflight_;
    c->recv_armed_ = false;
    c->cancel_sent_ = false;  // the multishot recv is over, whoever ended it
  }
  if (res > 0) {
    uint16_t bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    if (!c->closing_) c->handler_->on_data(*c, c->io_->buffers->buffer(bid, static_cast<size_t>(res)));
    c->io_->buffers->recycle(bid);
    if (!more) c->rearm_recv();
  } else if (res == -ENOBUFS) {
    ++c->io_->buffers->enobufs_seen;  // issue 11 metrics: ringside_recv_enobufs_total
    // Every provided buffer is in use: the data stays in the socket; ask again. Buffers are
    // recycled as soon as each completion is handled, so this resolves on the next pass.
    if (!more) c->rearm_recv();
  } else if (res == 0) {
    c->fail(0);  // peer closed
  } else if (res == -ECANCELED && !c->closing_) {
    c->rearm_recv();  // pause_recv() cancelled it; resume_recv() may have come meanwhile
  } else if (res != -ECANCELED || !c->closing_) {
    c->fail(res);
  }
  c->maybe_finish();
}

void TcpConnection::rearm_recv() {
  if (!closing_ && !recv_paused_ && !recv_armed_) arm_recv();
}

void TcpConnection::pause_recv() {
  if (recv_paused_) return;
  recv_paused_ = true;
  if (recv_armed_ && !cancel_sent_ && !closing_) {
    // The multishot recv would keep completing: cancel it. Its final completion (-ECANCELED, or
    // data that won the race) comes back through on_recv_cqe. The cancel's own completion
    // carries nothing we need and may outlive this object, hence the static operation.
    static Operation ignore_cancel_result{};
    io_uring_sqe* s = io_->ring->sqe(&ignore_cancel_result);
    io_uring_prep_cancel(s, &recv_op_, 0);
    cancel_sent_ = true;
  }
}

void TcpConnection::resume_recv() {
  if (!recv_paused_) return;
  recv_paused_ = false;
  if (connected_) rearm_recv();  // still armed (cancel in flight): its completion re-arms
}

void TcpConnection::flush() {
  // A send in flight picks pending_ up when it completes; a dial still connecting sends on
  // connect.
  if (closing_ || !connected_ || send_inflight_ || pending_.empty()) return;
  schedule_send();
}

void TcpConnection::schedule_send() {
  if (io_->flushes) {
    io_->flushes->add(&flush_node_);  // once per turn, however many flushes
  } else {
    start_send();
  }
}

void TcpConnection::on_turn_end(void* self) {
  auto* c = static_cast<TcpConnection*>(self);
  if (c->closing_ || !c->connected_ || c->send_inflight_ || c->pending_.empty()) return;
  c->start_send();
}

void TcpConnection::start_send() {
  std::swap(pending_, sending_);
  io_uring_sqe* s = io_->ring->sqe(&send_op_);
  io_uring_prep_send(s, fd_, sending_.data(), sending_.size(), MSG_NOSIGNAL);
  ++sends_started_;
  send_inflight_ = true;
  ++inflight_;
}

void TcpConnection::on_send_cqe(void* self, int32_t res, uint32_t) {
  auto* c = static_cast<TcpConnection*>(self);
  --c->inflight_;
  c->send_inflight_ = false;
  if (res < 0) {
    c->fail(res);
  } else if (!c->closing_) {
    c->sending_.consume(static_cast<size_t>(res));
    // Everything sent: a block grown for a large write goes back to the shard pool, so an idle
    // connection does not pin it (blocks of that size then number the large writes in flight,
    // not the connections that ever made one).
    if (c->sending_.empty()) c->sending_.clear_keeping(c->kept_send_bytes_);
    if (!c->sending_.empty()) {
      // Short write: send the rest before anything queued after it.
      io_uring_sqe* s = c->io_->ring->sqe(&c->send_op_);
      io_uring_prep_send(s, c->fd_, c->sending_.data(), c->sending_.size(), MSG_NOSIGNAL);
      ++c->sends_started_;
      c->send_inflight_ = true;
      ++c->inflight_;
    } else if (!c->pending_.empty()) {
      c->schedule_send();  // with what the rest of this turn appends
    } else if (c->close_after_flush_) {
      c->close();
    } else {
      c->pending_.clear_keeping(c->kept_send_bytes_);  // empty here: idle, as above
      c->handler_->on_drained(*c);
    }
  }
  c->maybe_finish();
}

void TcpConnection::close_after_flush() {
  // A dial still connecting keeps its queued bytes: on_connect_cqe flushes them and the send
  // completion closes.
  if (send_idle() || closing_) {
    close();
  } else {
    close_after_flush_ = true;
    flush();
  }
}

void TcpConnection::close() { fail(0); }

void TcpConnection::fail(int err) {
  if (!closing_) {
    closing_ = true;
    close_err_ = err;
    if (io_->flushes) io_->flushes->remove(&flush_node_);  // queued output is dropped
    // Wakes the armed recv and any send; their completions drain inflight_. A connect still in
    // flight is cancelled explicitly (shutdown does not reliably abort SYN_SENT).
    ::shutdown(fd_, SHUT_RDWR);
    if (!connected_ && inflight_ > 0) {
      static Operation ignore_cancel_result{};
      io_uring_sqe* s = io_->ring->sqe(&ignore_cancel_result);
      io_uring_prep_cancel(s, &connect_op_, 0);
    }
    if (inflight_ == 0) {
      // Nothing in flight (reading paused, nothing to send): finish from the ring all the
      // same, so on_closed() never runs inside the caller's own call to close().
      io_uring_sqe* s = io_->ring->sqe(&close_op_);
      io_uring_prep_nop(s);
      ++inflight_;
    }
  }
  // No maybe_finish() here: every path into fail() has a completion still to come (the NOP
  // above at least), and the completion handler finishes once its own callback has returned,
  // so on_closed() never runs inside a handler's call into this connection.
}

void TcpConnection::maybe_finish() {
  if (!closing_ || finished_ || inflight_ > 0) return;
  finished_ = true;
  if (io_->flushes) io_->flushes->remove(&flush_node_);  // never left behind on the list
  ::close(fd_);
  fd_ = -1;
  handler_->on_closed(*this, close_err_);
  destroy_connection(this);
}

}  // namespace ringside::io
