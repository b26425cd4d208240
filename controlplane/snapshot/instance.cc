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

bool parse_ipv4_host_port(std::string_view address, uint32_t* ipv4_be, uint16_t* port_be) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p == 0 || p > 65535) return false;
  in_addr a{};
  if (host == "localhost") {
    a.s_addr = htonl(INADDR_LOOPBACK);
  } else {
    char buf[INET_ADDRSTRLEN];
    if (host.size() >= sizeof(buf)) return false;
    host.copy(buf, host.size());
    buf[host.size()] = '\0';
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
  }
  *ipv4_be = a.s_addr;
  *port_be = htons(static_cast<uint16_t>(p));
  return true;
}

absl::StatusOr<Instance> make_instance(std::string_view app_id, std::string_view app_namespace,
                                       std::string_view address, std::string_view cluster, uint32_t weight) {
  Instance inst;
  if (!parse_ipv4_host_port(address, &inst.ipv4_be, &inst.port_be)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::string_view(address.data(), address.size()),
                     "\" is not an IPv4 host:port (IPv6 and host names other than localhost are not supported)"));
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
