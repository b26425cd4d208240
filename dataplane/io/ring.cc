#include "dataplane/io/ring.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace ringside::io {

std::string explain_io_uring_error(int err) {
  switch (err) {
    case ENOSYS:
      return "io_uring is not supported by this kernel (ENOSYS): ringside needs Linux 6.1 or "
             "newer built with CONFIG_IO_URING";
    case EPERM:
      return "io_uring is disabled for this process (EPERM): check the sysctl "
             "kernel.io_uring_disabled (set it to 0, or 1 and add the user to "
             "kernel.io_uring_group) and any seccomp profile (container runtimes such as Docker "
             "block io_uring by default; allow io_uring_setup/io_uring_enter/io_uring_register)";
    case ENOMEM:
      return "io_uring could not allocate its rings (ENOMEM): raise the locked-memory limit "
             "(ulimit -l) or use smaller ring sizes (spec.ringside.dataplane.ringEntries)";
    case EINVAL:
      return "io_uring rejected the setup flags (EINVAL): the kernel is too old for "
             "SINGLE_ISSUER/DEFER_TASKRUN; use Linux 6.1 or newer";
    default:
      return absl::StrFormat("io_uring setup failed: %s", std::strerror(err));
  }
}

Ring::~Ring() { close(); }

void Ring::close() {
  if (initialized_) io_uring_queue_exit(&ring_);
  initialized_ = false;
}

absl::Status Ring::init(const RingOptions& options) {
  io_uring_params p{};
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  p.cq_entries = options.entries * 4;
  if (options.sqpoll) {
    p.flags |= IORING_SETUP_SQPOLL;
    p.sq_thread_idle = options.sqpoll_idle_ms;
    if (options.attach_wq_fd >= 0) {
      // One poller for several shards: the kernel's SQPOLL thread of the first ring serves
      // this ring too (its CPU was set there; SQ_AFF here would be ignored).
      p.flags |= IORING_SETUP_ATTACH_WQ;
      p.wq_fd = static_cast<unsigned>(options.attach_wq_fd);
    } else if (options.sqpoll_cpu >= 0) {
      p.flags |= IORING_SETUP_SQ_AFF;
      p.sq_thread_cpu = static_cast<unsigned>(options.sqpoll_cpu);
    }
  } else {
    // Only this thread submits, and completions run when we ask for them: cheaper task work.
    p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  }
  int rc = io_uring_queue_init_params(options.entries, &ring_, &p);
  if (rc == -EINVAL && (p.flags & IORING_SETUP_DEFER_TASKRUN)) {
    io_uring_params q{};
    q.flags = IORING_SETUP_CQSIZE;
    q.cq_entries = options.entries * 4;
    rc = io_uring_queue_init_params(options.entries, &ring_, &q);
  } else if (rc == 0) {
    deferred_taskrun_ = (p.flags & IORING_SETUP_DEFER_TASKRUN) != 0;
  }
  if (rc < 0) return absl::UnavailableError(explain_io_uring_error(-rc));
  initialized_ = true;
  // Registering the ring fd saves an fdget/fdput per io_uring_enter.
  io_uring_register_ring_fd(&ring_);
  return absl::OkStatus();
}

io_uring_sqe* Ring::sqe(Operation* op) {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  while (!s) {
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
  }
  io_uring_sqe_set_data(s, op);
  return s;
}

void Ring::submit_and_wait(int64_t timeout_ns) {
  io_uring_cqe* cqe = nullptr;
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ns / 1000000000;
  ts.tv_nsec = timeout_ns % 1000000000;
  // -ETIME (timeout), -EINTR and -EBUSY (CQ overflow being flushed) all just mean "look again".
  io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
}

int Ring::dispatch() {
  io_uring_cqe* cqe = nullptr;
  int n = 0;
  // The CQ head is advanced before each callback, so a callback may submit freely.
  while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
    auto* op = static_cast<Operation*>(io_uring_cqe_get_data(cqe));
    int32_t res = cqe->res;
    uint32_t flags = cqe->flags;
    io_uring_cqe_seen(&ring_, cqe);
    if (op && op->fn) op->fn(op->owner, res, flags);
    ++n;
  }
  return n;
}

}  // namespace ringside::io
