#include "dataplane/tls/spiffe_id.h"

namespace ringside::tls {
namespace {
constexpr std::string_view kScheme = "spiffe://";

// A segment: non-empty, printable ASCII without '/'.
bool valid_segment(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == '/') return false;
  }
  return true;
}
}  // namespace

bool parse_spiffe_id(std::string_view uri, SpiffeId* out) {
  if (uri.substr(0, kScheme.size()) != kScheme) return false;
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view trust_domain = rest.substr(0, slash);
  rest = rest.substr(slash + 1);
  if (rest.substr(0, 3) != "ns/") return false;
  rest = rest.substr(3);
  slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view app_namespace = rest.substr(0, slash);
  std::string_view app_id = rest.substr(slash + 1);
  if (!valid_segment(trust_domain) || !valid_segment(app_namespace) || !valid_segment(app_id)) return false;
  *out = SpiffeId{trust_domain, app_namespace, app_id};
  return true;
}

}  // namespace ringside::tls
