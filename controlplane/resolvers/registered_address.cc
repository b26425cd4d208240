#include "controlplane/resolvers/registered_address.h"

namespace ringside::resolvers {

std::string registered_host(std::string_view host_ip, std::string_view internal_listen_address) {
  if (!host_ip.empty()) return std::string(host_ip);
  std::string_view a = internal_listen_address;
  const bool wildcard = a.empty() || a == "0.0.0.0" || a == "::" || a == "[::]";
  if (!wildcard) {
    if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
    return std::string(a);
  }
  return "127.0.0.1";
}

std::string join_host_port(std::string_view host, uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  out.append(":").append(std::to_string(port));
  return out;
}

}  // namespace ringside::resolvers
