#include "tests/unit/controlplane/etcd/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "tests/unit/controlplane/etcd/etcd_server.h"

namespace ringside::testing {

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(uint16_t target_port) : target_port_(target_port) {
  ::pipe(wake_);
  port_ = pick_free_port();
  {
    std::lock_guard<std::mutex> lock(mu_);
    listen_locked();
  }
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake();
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  close_all_locked();
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TcpProxy::wake() {
  char c = 1;
  (void)::write(wake_[1], &c, 1);
}

void TcpProxy::listen_locked() {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = loopback(port_);
  ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(listener_, 64);
}

void TcpProxy::close_all_locked() {
  if (listener_ >= 0) ::close(listener_);
  listener_ = -1;
  for (auto [a, b] : pairs_) {
    ::shutdown(a, SHUT_RDWR);
    ::close(a);
    ::shutdown(b, SHUT_RDWR);
    ::close(b);
  }
  pairs_.clear();
}

void TcpProxy::cut() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    close_all_locked();
  }
  wake();
}

void TcpProxy::restore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (listener_ < 0) listen_locked();
  }
  wake();
}

void TcpProxy::run() {
  char buf[65536];
  while (true) {
    std::vector<pollfd> fds;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      fds.push_back({wake_[0], POLLIN, 0});
      if (listener_ >= 0) fds.push_back({listener_, POLLIN, 0});
      for (auto [a, b] : pairs_) {
        fds.push_back({a, POLLIN, 0});
        fds.push_back({b, POLLIN, 0});
      }
    }
    if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (fds[0].revents & POLLIN) {
      (void)::read(wake_[0], buf, sizeof(buf));
      continue;  // the fd set changed: rebuild it before touching any fd
    }
    if (stopping_) return;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == listener_) {
        int client = ::accept(listener_, nullptr, nullptr);
        if (client < 0) continue;
        int server = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = loopback(target_port_);
        if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
          ::close(server);
          ::close(client);
          continue;
        }
        pairs_.emplace_back(client, server);
        continue;
      }
      auto it = std::find_if(pairs_.begin(), pairs_.end(), [&](auto& pr) { return pr.first == p.fd || pr.second == p.fd; });
      if (it == pairs_.end()) continue;
      int other = it->first == p.fd ? it->second : it->first;
      ssize_t n = ::recv(p.fd, buf, sizeof(buf), 0);
      if (n <= 0 || !write_all(other, buf, static_cast<size_t>(n))) {
        ::close(it->first);
        ::close(it->second);
        pairs_.erase(it);
        break;  // fds may now name closed descriptors: poll again
      }
    }
  }
}

}  // namespace ringside::testing
