#pragma once
// Ring: one io_uring owned by one shard thread (IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN).
// Every submission carries an Operation* as user_data; run_once() waits, then dispatches each
// completion to its Operation.
#include <liburing.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "dataplane/io/operation.h"

namespace ringside::io {

struct RingOptions {
  unsigned entries = 1024;   // SQ size; CQ is 4x
  bool sqpoll = false;       // kernel-side submission polling thread
  int sqpoll_cpu = -1;       // CPU for the SQPOLL thread (-1: any)
  unsigned sqpoll_idle_ms = 100;  // SQPOLL thread sleeps after this long without submissions
  int attach_wq_fd = -1;     // share this ring's SQPOLL thread and io-wq (IORING_SETUP_ATTACH_WQ); -1 = own
};

class Ring {
 public:
  Ring() = default;
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Fails with a message that says why io_uring is unusable and what to change.
  absl::Status init(const RingOptions& options);

  // A free SQE; when the SQ is full it submits first. Never returns null after init().
  io_uring_sqe* sqe(Operation* op);
  // Submits what is queued and waits up to timeout_ns for at least one completion.
  void submit_and_wait(int64_t timeout_ns);
  // Dispatches every completion available now. Returns the number dispatched.
  int dispatch();

  // Tears the ring down now: the kernel cancels every operation still in flight and no
  // completion is delivered afterwards, so the memory they referenced may be freed.
  void close();

  io_uring* raw() { return &ring_; }
  bool deferred_taskrun() const { return deferred_taskrun_; }

 private:
  io_uring ring_{};
  bool initialized_ = false;
  bool deferred_taskrun_ = false;
};

// Explains an io_uring setup error code in words a user can act on.
std::string explain_io_uring_error(int err);

}  // namespace ringside::io
