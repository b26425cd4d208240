#pragma once
// Listener: multishot accept on one SO_REUSEPORT listening socket owned by this shard.
#include <linux/time_types.h>

#include <cstdint>
#include <functional>

#include "dataplane/io/io_context.h"
#include "dataplane/io/operation.h"

namespace ringside::io {

class Listener {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_accept(int fd) = 0;  // a new connected socket, owned by the handler
  };
  Listener(IoContext* io, int listen_fd, Handler* handler);
  ~Listener();
  void start();
  // Stops accepting (cancels the multishot accept; the listening fd is closed).
  void stop();
  int fd() const { return fd_; }
  // Times accepting paused because the process or system ran out of file descriptors.
  uint64_t fd_exhaustion_pauses() const { return pauses_; }
  // How long accepting pauses after EMFILE/ENFILE (issue 10).
  static constexpr int64_t kFdExhaustionPauseNs = 100'000'000;

 private:
  static void on_accept_cqe(void* self, int32_t res, uint32_t flags);
  static void on_pause_over(void* self, int32_t res, uint32_t flags);
  void arm();
  IoContext* io_;
  int fd_;
  Handler* handler_;
  Operation accept_op_;
  bool armed_ = false;
  bool stopped_ = false;
  // Out of descriptors: the connection stays in the backlog and a re-armed accept would fail
  // again at once, a busy loop that starves every connection the shard serves. So accepting
  // pauses for kFdExhaustionPauseNs (an io_uring timeout, nothing blocks) and then resumes.
  Operation pause_op_;                  // the pause's timeout completion
  __kernel_timespec pause_ts_{};        // its duration (read by the kernel at submit)
  bool paused_ = false;                 // a pause is pending
  uint64_t pauses_ = 0;                 // fd_exhaustion_pauses()
};

}  // namespace ringside::io
