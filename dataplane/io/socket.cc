#include "dataplane/io/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "absl/strings/str_format.h"

namespace ringside::io {

bool parse_ipv4(std::string_view host, uint32_t* addr_be) {
  if (host == "localhost") host = "127.0.0.1";
  if (host.empty() || host == "0.0.0.0" || host == "*") {
    *addr_be = htonl(INADDR_ANY);
    return true;
  }
  char buf[INET_ADDRSTRLEN];
  // inet_pton stops at a NUL: "127.0.0.1\0junk" must not pass as 127.0.0.1.
  if (host.size() >= sizeof buf || host.find('\0') != std::string_view::npos) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = 0;
  in_addr a{};
  if (inet_pton(AF_INET, buf, &a) != 1) return false;
  *addr_be = a.s_addr;
  return true;
}

bool parse_host_port(std::string_view text, sockaddr_in* out) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  unsigned port = 0;
  auto pt = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(pt.data(), pt.data() + pt.size(), port);
  if (ec != std::errc() || p != pt.data() + pt.size() || port == 0 || port > 65535) return false;
  uint32_t addr;
  if (!parse_ipv4(text.substr(0, colon), &addr)) return false;
  std::memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_addr.s_addr = addr;
  out->sin_port = htons(static_cast<uint16_t>(port));
  return true;
}

namespace {
// SO_REUSEPORT lets another process of the same user share a port silently. A bind without it
// fails while anyone holds the port, so it tells "in use" apart before the shards' sockets
// (which do set SO_REUSEPORT, to share the port among themselves) are bound.
bool probe_free(uint32_t addr_be, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // cannot tell; the real bind decides
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = addr_be;
  sa.sin_port = htons(port);
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 || errno != EADDRINUSE;
  close(fd);
  return free;
}
}  // namespace

absl::StatusOr<int> listen_tcp(std::string_view host, uint16_t port, bool first, int backlog) {
  uint32_t addr;
  if (!parse_ipv4(host, &addr)) {
    return absl::InvalidArgumentError(absl::StrFormat("\"%s\" is not an IPv4 address", host));
  }
  if (first && port != 0 && !probe_free(addr, port)) {
    return absl::AlreadyExistsError(
        absl::StrFormat("port %d on %s is already in use", port, host.empty() ? "*" : host));
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrFormat("socket: %s", std::strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = addr;
  sa.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    int e = errno;
    close(fd);
    if (e == EADDRINUSE) {
      return absl::AlreadyExistsError(
          absl::StrFormat("port %d on %s is already in use", port, host.empty() ? "*" : host));
    }
    return absl::InternalError(
        absl::StrFormat("bind %s:%d: %s", host, port, std::strerror(e)));
  }
  if (listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    return absl::InternalError(absl::StrFormat("listen on port %d: %s", port, std::strerror(e)));
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0) return 0;
  return ntohs(sa.sin_port);
}

void tune_accepted_socket(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int new_client_socket(int family) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  tune_accepted_socket(fd);
  return fd;
}

}  // namespace ringside::io
