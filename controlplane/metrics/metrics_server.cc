#include "controlplane/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace ringside::metrics {
namespace {

constexpr size_t kMaxRequestBytes = 8192;  // a scrape request is a few hundred bytes

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string response(std::string_view status, std::string_view content_type, std::string_view body) {
  return absl::StrCat("HTTP/1.1 ", absl::string_view(status.data(), status.size()),
                      "\r\nContent-Type: ", absl::string_view(content_type.data(), content_type.size()),
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n",
                      absl::string_view(body.data(), body.size()));
}

}  // namespace

MetricsServer::MetricsServer(Provider provider, std::chrono::milliseconds read_timeout)
    : provider_(std::move(provider)), read_timeout_(read_timeout) {}

MetricsServer::~MetricsServer() { stop(); }

absl::Status MetricsServer::start(const std::string& address, uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const std::string host = address == "localhost" ? "127.0.0.1" : address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  if (inet_pton(AF_INET, bare.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("metrics listen address \"", address, "\" is not an IP address"));
  }
  listen_fd_ = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return absl::InternalError(absl::StrCat("metrics server: socket: ", std::strerror(errno)));
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    close(listen_fd_);
    listen_fd_ = -1;
    if (err == EADDRINUSE) return absl::UnavailableError(absl::StrCat("metrics port ", port, " is already in use"));
    return absl::UnavailableError(absl::StrCat("metrics port ", port, ": cannot bind ", address, ": ", std::strerror(err)));
  }
  if (listen(listen_fd_, 64) != 0) {
    int err = errno;
    close(listen_fd_);
    listen_fd_ = -1;
    return absl::UnavailableError(absl::StrCat("metrics port ", port, ": listen: ", std::strerror(err)));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    close(listen_fd_);
    listen_fd_ = -1;
    return absl::InternalError("metrics server: cannot create eventfd");
  }
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void MetricsServer::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
  close(listen_fd_);
  close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

void MetricsServer::run() {
  while (!stopping_.load(std::memory_order_acquire)) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    serve(fd);
    close(fd);
  }
}

void MetricsServer::serve(int fd) {
  timeval tv{};
  tv.tv_sec = read_timeout_.count() / 1000;
  tv.tv_usec = (read_timeout_.count() % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

  const auto deadline = std::chrono::steady_clock::now() + read_timeout_;
  std::string request;
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (request.size() > kMaxRequestBytes || std::chrono::steady_clock::now() > deadline) {
      write_all(fd, response("431 Request Header Fields Too Large", "text/plain", "request too large or too slow\n"));
      return;
    }
    char buf[1024];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // closed, or SO_RCVTIMEO expired
    request.append(buf, static_cast<size_t>(n));
  }
  // Request line: METHOD SP TARGET SP VERSION
  std::string_view line(request.data(), request.find("\r\n"));
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) {
    write_all(fd, response("400 Bad Request", "text/plain", "bad request\n"));
    return;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (size_t q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target == "/healthz" && health_) {
    // Only servers that opted in (ringside-sync); ringsided's health lives on its HTTP port.
    write_all(fd, health_() ? response("200 OK", "text/plain", "ok\n")
                            : response("503 Service Unavailable", "text/plain", "unhealthy\n"));
    return;
  }
  if (target != "/metrics") {
    write_all(fd, response("404 Not Found", "text/plain", "404 page not found\n"));
    return;
  }
  if (method != "GET" && method != "HEAD") {
    write_all(fd, response("405 Method Not Allowed", "text/plain", "method not allowed\n"));
    return;
  }
  std::string body = provider_ ? provider_() : std::string();
  std::string out = response("200 OK", "text/plain; version=0.0.4; charset=utf-8", body);
  if (method == "HEAD") out.resize(out.size() - body.size());
  write_all(fd, out);
}

}  // namespace ringside::metrics
