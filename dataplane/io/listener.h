#pragma once
// Listener: multishot accept on one SO_REUSEPORT listening socket owned by this shard.
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

 private:
  static void on_accept_cqe(void* self, int32_t res, uint32_t flags);
  void arm();
  IoContext* io_;
  int fd_;
  Handler* handler_;
  Operation accept_op_;
  bool armed_ = false;
  bool stopped_ = false;
};

}  // namespace ringside::io
