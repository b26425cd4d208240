#include "controlplane/apphealth/http_probe.h"
#include "controlplane/apphealth/status_line.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string_view>

namespace ringside::apphealth {
namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds left before `deadline` (0 when it passed).
int millis_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    int left = millis_left(deadline);
    if (left == 0) return false;
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, left);
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { if (fd_ >= 0) close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
 private:
  int fd_;  // owned socket
};

}  // namespace

int http_probe_status(const HttpProbeTarget& target, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  FdCloser closer(fd);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&target.address), sizeof target.address) != 0) {
    if (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline)) return -1;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return -1;
  }
  // Connection: close — one probe per connection keeps the prober stateless (a probe every
  // interval costs one loopback handshake).
  std::string request = "GET " + target.path + " HTTP/1.1\r\nHost: " + target.authority +
                        "\r\nUser-Agent: ringside-health-probe\r\nConnection: close\r\n";
  if (!target.app_api_token.empty()) request += "dapr-api-token: " + target.app_api_token + "\r\n";
  request += "\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return -1;
    } else {
      return -1;
    }
  }
  std::string head;
  char buf[512];
  for (;;) {
    int code = parse_status_line(head);
    if (code != 0) return code;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      head.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLIN, deadline)) return -1;
    } else {
      return -1;  // closed before a status line, or an error
    }
  }
}

}  // namespace ringside::apphealth
