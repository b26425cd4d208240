#include "controlplane/snapshot/socket_address.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <cstring>

namespace ringside::snapshot {

socklen_t SocketAddress::to_sockaddr(sockaddr_storage* out) const {
  std::memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(out);
    a->sin_family = AF_INET;
    a->sin_port = port_be;
    std::memcpy(&a->sin_addr, ip, 4);
    return sizeof(sockaddr_in);
  }
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(out);
    a->sin6_family = AF_INET6;
    a->sin6_port = port_be;
    a->sin6_scope_id = scope_id;
    std::memcpy(&a->sin6_addr, ip, 16);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

uint64_t SocketAddress::key() const {
  if (family == AF_INET) {
    uint32_t v4;
    std::memcpy(&v4, ip, 4);
    return (uint64_t{v4} << 16) | port_be;  // the pre-IPv6 key: 48 bits, top bits zero
  }
  // FNV-1a over the address, zone and port, with the top bit set so it never equals an IPv4 key.
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  };
  mix(ip, 16);
  mix(&scope_id, sizeof scope_id);
  mix(&port_be, sizeof port_be);
  return h | (uint64_t{1} << 63);
}

std::string SocketAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 16];
  uint16_t port = ntohs(port_be);
  if (family == AF_INET) {
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, ip, a, sizeof a);
    snprintf(buf, sizeof buf, "%s:%u", a, port);
    return buf;
  }
  if (family == AF_INET6) {
    char a[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, ip, a, sizeof a);
    if (scope_id != 0) {
      snprintf(buf, sizeof buf, "[%s%%%u]:%u", a, scope_id, port);
    } else {
      snprintf(buf, sizeof buf, "[%s]:%u", a, port);
    }
    return buf;
  }
  return "";
}

SocketAddress SocketAddress::ipv4(uint32_t ip_be, uint16_t port_be) {
  SocketAddress a;
  a.family = AF_INET;
  a.port_be = port_be;
  std::memcpy(a.ip, &ip_be, 4);
  return a;
}

bool split_host_port(std::string_view text, std::string_view* host, uint16_t* port) {
  std::string_view h, p;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  uint32_t v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(v);
  return true;
}

bool parse_ip_literal(std::string_view host, uint16_t port, SocketAddress* out) {
  SocketAddress a;
  a.port_be = htons(port);
  if (host == "localhost") {
    uint32_t lo = htonl(INADDR_LOOPBACK);
    a.family = AF_INET;
    std::memcpy(a.ip, &lo, 4);
    *out = a;
    return true;
  }
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  if (host.empty() || host.size() >= sizeof buf) return false;
  host.copy(buf, host.size());
  buf[host.size()] = '\0';
  if (inet_pton(AF_INET, buf, a.ip) == 1) {
    a.family = AF_INET;
    *out = a;
    return true;
  }
  char* zone = std::strchr(buf, '%');
  if (zone) {
    *zone++ = '\0';
    if (*zone == '\0') return false;
    unsigned idx = if_nametoindex(zone);
    if (idx == 0) {
      char* end = nullptr;
      unsigned long n = std::strtoul(zone, &end, 10);
      if (*end != '\0' || n == 0 || n > 0xffffffffUL) return false;
      idx = static_cast<unsigned>(n);
    }
    a.scope_id = idx;
  }
  if (inet_pton(AF_INET6, buf, a.ip) != 1) return false;
  a.family = AF_INET6;
  *out = a;
  return true;
}

bool parse_socket_address(std::string_view text, SocketAddress* out) {
  std::string_view host;
  uint16_t port = 0;
  return split_host_port(text, &host, &port) && parse_ip_literal(host, port, out);
}

}  // namespace ringside::snapshot
