// SocketAddress: a dialable peer address (IPv4 or IPv6 literal plus port), small and trivially
// copyable so it lives inside published Instances and per-shard pool keys. Host names never get
// here: the control plane resolves them (controlplane/dns) before a table is built.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ringside::snapshot {

struct SocketAddress {
  uint16_t family = AF_UNSPEC;  // AF_INET, AF_INET6, or AF_UNSPEC (not dialable)
  uint16_t port_be = 0;         // network byte order
  uint32_t scope_id = 0;        // IPv6 zone (link-local addresses), else 0
  uint8_t ip[16] = {};          // IPv4 in the first 4 bytes (network order), or IPv6

  bool dialable() const { return family == AF_INET || family == AF_INET6; }
  // Fills `out` for connect(); returns its length (0 when not dialable).
  socklen_t to_sockaddr(sockaddr_storage* out) const;
  // A 64-bit key for per-shard maps (connection pools, back-off): equal addresses, equal keys.
  uint64_t key() const;
  // "1.2.3.4:5" or "[::1]:5".
  std::string to_string() const;

  static SocketAddress ipv4(uint32_t ip_be, uint16_t port_be);
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

// Splits "host:port", "[v6]:port" or "v6-literal-without-port"-free forms. `host` is returned
// without brackets. False when there is no valid port (1..65535) or the host is empty.
bool split_host_port(std::string_view text, std::string_view* host, uint16_t* port);

// Parses a literal host (IPv4, IPv6 with optional %zone, or "localhost" -> 127.0.0.1) and a
// port into a SocketAddress. False for host names (they need DNS) and malformed text.
bool parse_ip_literal(std::string_view host, uint16_t port, SocketAddress* out);

// split_host_port + parse_ip_literal.
bool parse_socket_address(std::string_view text, SocketAddress* out);

}  // namespace ringside::snapshot
