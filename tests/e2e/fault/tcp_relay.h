#pragma once
// TcpRelay: an in-test TCP relay on 127.0.0.1 that forwards every accepted connection to a
// target port and, while resetting is on, cuts each connection with an RST to both sides once
// the target has sent it `reset_after(n)` bytes (n = the connection's number): placed between
// a caller sidecar and a callee's internal gRPC port it resets the sidecar-to-sidecar link in
// the middle of a response stream. One thread per connection; every wait is bounded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/e2e/raw_socket.h"

namespace ringside::e2e::fault {

class TcpRelay {
 public:
  TcpRelay(uint16_t target_port, std::function<size_t(int)> reset_after)
      : target_port_(target_port), reset_after_(std::move(reset_after)) {
    listen_fd_ = ListenLoopback(128, &port_);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~TcpRelay() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : workers_) t.join();
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  uint16_t port() const { return port_; }
  int resets() const { return resets_.load(); }
  int connections() const { return connections_.load(); }
  void set_resetting(bool on) { resetting_ = on; }

 private:
  void Accept() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      const int n = ++connections_;
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, fd, n] { Pump(fd, n); });
    }
  }
  static void Reset(int fd) {
    linger no_linger{.l_onoff = 1, .l_linger = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
    ::close(fd);
  }
  // Forwards both ways until either side closes, the test stops, or the budget of target bytes
  // (while resetting) runs out: then both sides get an RST.
  void Pump(int client, int n) {
    const int target = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(target_port_);
    if (::connect(target, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      Reset(client);
      ::close(target);
      return;
    }
    const size_t budget = reset_after_(n);
    size_t from_target = 0;
    char buf[16384];
    while (!stop_.load()) {
      pollfd fds[2] = {{client, POLLIN, 0}, {target, POLLIN, 0}};
      if (::poll(fds, 2, 100) < 0) break;
      bool closed = false;
      for (int side = 0; side < 2 && !closed; ++side) {
        if (fds[side].revents == 0) continue;
        const int from = side == 0 ? client : target;
        const int to = side == 0 ? target : client;
        size_t want = sizeof buf;
        const bool cutting = side == 1 && resetting_.load();
        if (cutting) want = std::min(want, budget - std::min(budget, from_target));
        ssize_t got = want == 0 ? 0 : ::read(from, buf, want);
        if (cutting && want == 0) {
          // The budget is spent in the middle of the target's stream: RST both sides.
          ++resets_;
          Reset(client);
          Reset(target);
          return;
        }
        if (got <= 0) {
          closed = true;
          break;
        }
        if (side == 1) from_target += static_cast<size_t>(got);
        for (ssize_t off = 0; off < got;) {
          const ssize_t w = ::send(to, buf + off, static_cast<size_t>(got - off), MSG_NOSIGNAL);
          if (w <= 0) {
            closed = true;
            break;
          }
          off += w;
        }
      }
      if (closed) break;
    }
    ::close(client);
    ::close(target);
  }

  uint16_t target_port_;                     // where connections are forwarded
  std::function<size_t(int)> reset_after_;   // target bytes before the n-th connection is cut
  int listen_fd_ = -1;                       // listening socket
  uint16_t port_ = 0;                        // where the relay listens
  std::atomic<bool> stop_{false};            // destructor ran
  std::atomic<bool> resetting_{true};        // cut connections when their budget is spent
  std::atomic<int> resets_{0};               // connections cut
  std::atomic<int> connections_{0};          // connections accepted
  std::thread acceptor_;                     // accept loop
  std::mutex mu_;                            // guards workers_
  std::vector<std::thread> workers_;         // one per connection
};

}  // namespace ringside::e2e::fault
