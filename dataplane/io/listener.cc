#include "dataplane/io/listener.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "dataplane/io/socket.h"

namespace ringside::io {

Listener::Listener(IoContext* io, int listen_fd, Handler* handler)
    : io_(io), fd_(listen_fd), handler_(handler) {
  accept_op_ = {&Listener::on_accept_cqe, this};
  pause_op_ = {&Listener::on_pause_over, this};
}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
}

void Listener::start() { arm(); }

void Listener::arm() {
  io_uring_sqe* s = io_->ring->sqe(&accept_op_);
  io_uring_prep_multishot_accept(s, fd_, nullptr, nullptr, SOCK_CLOEXEC);
  armed_ = true;
}

void Listener::on_accept_cqe(void* self, int32_t res, uint32_t flags) {
  auto* l = static_cast<Listener*>(self);
  if (!(flags & IORING_CQE_F_MORE)) l->armed_ = false;
  if (res >= 0) {
    if (l->stopped_) {
      ::close(res);
    } else {
      tune_accepted_socket(res);
      l->handler_->on_accept(res);
    }
  }
  if (l->armed_ || l->stopped_) return;
  if (res == -EMFILE || res == -ENFILE) {
    // Re-arming now would fail again at once (the connection waits in the backlog): pause.
    if (!l->paused_) {
      l->paused_ = true;
      ++l->pauses_;
      l->pause_ts_.tv_sec = 0;
      l->pause_ts_.tv_nsec = kFdExhaustionPauseNs;
      io_uring_sqe* s = l->io_->ring->sqe(&l->pause_op_);
      io_uring_prep_timeout(s, &l->pause_ts_, 0, 0);
    }
    return;
  }
  // ECONNABORTED and friends end a multishot accept too: re-arm.
  l->arm();
}

void Listener::on_pause_over(void* self, int32_t, uint32_t) {
  auto* l = static_cast<Listener*>(self);
  l->paused_ = false;
  if (!l->armed_ && !l->stopped_) l->arm();
}

void Listener::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (armed_) {
    static Operation ignore_cancel_result{};
    io_uring_sqe* s = io_->ring->sqe(&ignore_cancel_result);
    io_uring_prep_cancel(s, &accept_op_, 0);
  }
  // Shutting the listening socket down makes the kernel refuse new connections at once.
  ::shutdown(fd_, SHUT_RDWR);
}

}  // namespace ringside::io
