#pragma once
// Test-only blocking loopback pump: moves bytes between a TCP socket on 127.0.0.1 and a
// sans-IO connection (anything with feed()/flush_to()), with bounded waits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "dataplane/mem/buffer.h"

namespace ringside::grpc::testing {

inline int listen_loopback(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 8) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

inline int accept_with_timeout(int lfd, int timeout_ms) {
  pollfd p{lfd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return -1;
  int fd = ::accept(lfd, nullptr, nullptr);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

inline int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Pumps until done() or timeout; returns done(). Stops early if the peer closes.
template <typename Conn>
bool pump_socket(int fd, Conn& conn, mem::ShardPool* pool, const std::function<bool()>& done,
                 int timeout_ms = 10000) {
  mem::Buffer out(pool);
  uint8_t in[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    conn.flush_to(&out);
    while (!out.empty()) {
      ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n <= 0) return done();
      out.consume(static_cast<size_t>(n));
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5) != 1) continue;
    ssize_t n = ::recv(fd, in, sizeof in, 0);
    if (n <= 0) return done();
    conn.feed(in, static_cast<size_t>(n));
  }
  return done();
}

}  // namespace ringside::grpc::testing
