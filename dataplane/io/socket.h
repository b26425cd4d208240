#pragma once
// Socket set-up done before shards start (listeners) or when dialling (non-blocking sockets).
#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringside::io {

// Parses "a.b.c.d" or "localhost" (IPv4 only for now) into an address in network byte order.
bool parse_ipv4(std::string_view host, uint32_t* addr_be);
// Parses "host:port".
bool parse_host_port(std::string_view text, sockaddr_in* out);

// A listening TCP socket with SO_REUSEPORT (so every shard can own one on the same port) on an
// IPv4 or IPv6 literal ("[::1]" allowed); "" or "*" = every address (dual-stack where IPv6 exists).
// port 0 picks a free port. `first`: this is the first socket of the port's group, so check
// that no other process holds the port (SO_REUSEPORT would otherwise let us share it).
// Errors: AlreadyExists when the port is in use (message names it).
absl::StatusOr<int> listen_tcp(std::string_view host, uint16_t port, bool first,
                               int backlog = 4096);
// The port a socket is bound to.
uint16_t bound_port(int fd);
// A non-blocking TCP socket ready for an io_uring connect, with TCP_NODELAY.
int new_client_socket(int family = AF_INET);
void tune_accepted_socket(int fd);

}  // namespace ringside::io
