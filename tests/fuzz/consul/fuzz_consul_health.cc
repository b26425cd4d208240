// Arbitrary bytes as the agent's answer to GET /v1/health/service/<app>?passing=1: the mapping
// must never crash, and every address it returns must be host:port text that
// snapshot::make_instance accepts (bracketed IPv6, a host without spaces or zone ids, port 1..65535).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "controlplane/config/value_parsers.h"
#include "controlplane/resolvers/consul/health_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  // The first byte picks the meta key, so both the default and a custom key are explored.
  std::string_view key = size > 0 && (data[0] & 1) ? "OTHER" : "DAPR_PORT";
  auto h = ringside::resolvers::consul::addresses_from_health(body, key);
  if (!h.ok()) return 0;
  for (std::string_view a : h->addresses) {
    size_t colon = a.rfind(':');
    if (colon == std::string_view::npos || colon == 0) std::abort();
    auto port = ringside::config::parse_port(a.substr(colon + 1));
    if (!port || *port == 0) std::abort();
    std::string_view host = a.substr(0, colon);
    if (host.front() == '[' && host.back() != ']') std::abort();
    for (char c : host) {
      if (static_cast<unsigned char>(c) <= ' ' || c == '%' || c == '/') std::abort();
    }
  }
  return 0;
}
