#include "controlplane/snapshot/instance.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"

namespace ringside::snapshot {

uint64_t instance_id(std::string_view app_id, std::string_view app_namespace, std::string_view address) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a offset basis
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;  // FNV prime
    }
    h ^= 0xff;  // separator byte that cannot appear in UTF-8 text, so ("ab","c") != ("a","bc")
    h *= 1099511628211ull;
  };
  mix(app_id);
  mix(app_namespace);
  mix(address);
  return h;
}

absl::StatusOr<Instance> make_instance(std::string_view app_id, std::string_view app_namespace,
                                       std::string_view address, std::string_view cluster, uint32_t weight) {
  Instance inst;
  std::string_view host;
  uint16_t port = 0;
  if (!split_host_port(address, &host, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::string_view(address.data(), address.size()),
                     "\" is not host:port (IPv6 addresses go in brackets: [::1]:50002)"));
  }
  if (!parse_ip_literal(host, port, &inst.addr)) {
    if (host.find(':') != std::string_view::npos || host.find('%') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", absl::string_view(address.data(), address.size()), "\" is not a valid IPv6 address"));
    }
    inst.host_name = std::string(host);
    inst.addr.port_be = htons(port);
  }
  inst.id = instance_id(app_id, app_namespace, address);
  inst.app_id = std::string(app_id);
  inst.app_namespace = std::string(app_namespace);
  inst.address_text = std::string(address);
  inst.cluster = std::string(cluster);
  inst.weight = weight;
  return inst;
}

}  // namespace ringside::snapshot

namespace ringside::snapshot {

Instance with_resolved_address(const Instance& named, const SocketAddress& addr) {
  Instance out = named;
  out.addr = addr;
  out.addr.port_be = named.addr.port_be;
  std::string mixed = named.address_text + "@" + out.addr.to_string();
  out.id = instance_id(named.app_id, named.app_namespace, mixed);
  return out;
}

}  // namespace ringside::snapshot
