// Which host the sidecar announces to name resolution (docs/adr/0001-registered-address.md):
// DAPR_HOST_IP if set; else the internal gRPC listen address when it names one host; else
// 127.0.0.1. A non-loopback address is never announced unless the user asked for it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringside::resolvers {

// host_ip: $DAPR_HOST_IP ("" = unset); internal_listen_address: --dapr-internal-grpc-listen-address.
std::string registered_host(std::string_view host_ip, std::string_view internal_listen_address);

// "host:port", with brackets around IPv6 hosts (as Go's net.JoinHostPort).
std::string join_host_port(std::string_view host, uint16_t port);

}  // namespace ringside::resolvers
