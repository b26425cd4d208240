#pragma once
// ThreadedHttpApp: an in-test HTTP/1.1 app on 127.0.0.1 (a free port), one thread per
// connection, for e2e tests that script what the app answers and count what it receives. A
// subclass answers each request in Handle(); the base owns the listening socket, the accept
// loop, the per-connection threads and an orderly teardown (the destructor shuts every open
// connection down and joins its thread, so a test never leaks a thread or a socket).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/raw_socket.h"

namespace ringside::e2e {

class ThreadedHttpApp {
 public:
  ThreadedHttpApp(const ThreadedHttpApp&) = delete;
  ThreadedHttpApp& operator=(const ThreadedHttpApp&) = delete;
  virtual ~ThreadedHttpApp() { Stop(); }

  uint16_t port() const { return port_; }

 protected:
  // backlog: the listen() queue (tests that open many connections at once want more).
  explicit ThreadedHttpApp(int backlog = 128) {
    listen_fd_ = ListenLoopback(backlog, &port_);
    acceptor_ = std::thread([this] { Accept(); });
  }
  // One complete request (head and body read) on `conn`: answer it. False closes the
  // connection (also return false when sending failed).
  virtual bool Handle(HttpMessage& request, BlockingHttpConnection& conn) = 0;
  // Subclasses whose Handle() reads members must call this first in their destructor, so no
  // connection thread runs Handle() while those members are destroyed. Idempotent.
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
  }

 private:
  void Accept() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.push_back(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    BlockingHttpConnection conn(fd);
    struct Forget {
      ThreadedHttpApp* app;
      int fd;
      ~Forget() {
        std::lock_guard<std::mutex> lock(app->mu_);
        std::erase(app->open_fds_, fd);
      }
    } forget{this, fd};
    for (;;) {
      const auto deadline = Clock::now() + 60s;
      auto request = conn.ReadRequestHead(deadline);
      if (!request.ok()) return;
      if (!conn.ReadRequestBody(&*request, deadline).ok()) return;
      if (!Handle(*request, conn)) return;
    }
  }

  int listen_fd_ = -1;                // listening socket
  uint16_t port_ = 0;                 // where it listens
  bool stopped_ = false;              // Stop() ran
  std::thread acceptor_;              // accept loop
  std::mutex mu_;                     // guards open_fds_ and workers_
  std::vector<int> open_fds_;         // connections being served
  std::vector<std::thread> workers_;  // one per connection
};

}  // namespace ringside::e2e
