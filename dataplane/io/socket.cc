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

// A listen address: IPv4 or IPv6 literal ("[::1]" brackets allowed), "localhost", or "" / "*" for
// every address (dual-stack "::" where the kernel has IPv6, else 0.0.0.0).
bool listen_sockaddr(std::string_view host, uint16_t port, sockaddr_storage* out, socklen_t* len) {
  std::memset(out, 0, sizeof *out);
  uint32_t v4;
  if (!host.empty() && host != "*" && parse_ipv4(host, &v4)) {
    auto* a = reinterpret_cast<sockaddr_in*>(out);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = v4;
    a->sin_port = htons(port);
    *len = sizeof *a;
    return true;
  }
  if (host.empty() || host == "*") host = "::";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  char buf[INET6_ADDRSTRLEN];
  if (host.size() >= sizeof buf || host.find('\0') != std::string_view::npos) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = 0;
  auto* a = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET6, buf, &a->sin6_addr) != 1) return false;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  *len = sizeof *a;
  return true;
}

bool is_any6(const sockaddr_storage& ss) {
  if (ss.ss_family != AF_INET6) return false;
  const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
  return IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr);
}

// A TCP socket for `ss`; the IPv6 wildcard also takes IPv4 (v4-mapped). -errno on failure.
int new_listen_socket(const sockaddr_storage& ss) {
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (is_any6(ss)) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  return fd;
}

// SO_REUSEPORT lets another process of the same user share a port silently. A bind without it
// fails while anyone holds the port, so it tells "in use" apart before the shards' sockets
// (which do set SO_REUSEPORT, to share the port among themselves) are bound.
bool probe_free(const sockaddr_storage& ss, socklen_t len) {
  int fd = new_listen_socket(ss);
  if (fd < 0) return true;  // cannot tell; the real bind decides
  bool free = bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0 || errno != EADDRINUSE;
  close(fd);
  return free;
}

}  // namespace

absl::StatusOr<int> listen_tcp(std::string_view host, uint16_t port, bool first, int backlog) {
  sockaddr_storage ss;
  socklen_t len = 0;
  if (!listen_sockaddr(host, port, &ss, &len)) {
    return absl::InvalidArgumentError(absl::StrFormat("\"%s\" is not an IPv4 or IPv6 address", host));
  }
  const std::string shown = host.empty() ? std::string("*") : std::string(host);
  int fd = new_listen_socket(ss);
  if (fd == -EAFNOSUPPORT && (host.empty() || host == "*")) {
    // No IPv6 in this kernel: every IPv4 address, as before dual-stack.
    listen_sockaddr("0.0.0.0", port, &ss, &len);
    fd = new_listen_socket(ss);
  }
  if (fd < 0) return absl::InternalError(absl::StrFormat("socket: %s", std::strerror(-fd)));
  if (first && port != 0 && !probe_free(ss, len)) {
    close(fd);
    return absl::AlreadyExistsError(absl::StrFormat("port %d on %s is already in use", port, shown));
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) < 0) {
    int e = errno;
    close(fd);
    if (e == EADDRINUSE) {
      return absl::AlreadyExistsError(absl::StrFormat("port %d on %s is already in use", port, shown));
    }
    return absl::InternalError(absl::StrFormat("bind %s:%d: %s", shown, port, std::strerror(e)));
  }
  if (listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    return absl::InternalError(absl::StrFormat("listen on port %d: %s", port, std::strerror(e)));
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6&>(ss).sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in&>(ss).sin_port);
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
