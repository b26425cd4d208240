#include "controlplane/dns/dns_options.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::dns {

namespace {
using config::path_error;
using config::quoted;
using config::to_absl;
using config::to_std;

bool parse_port(std::string_view text, int* port) {
  if (text.empty() || text.size() > 5) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 65535) return false;
  *port = v;
  return true;
}

bool parse_ip(std::string_view host, NameserverAddress* out) {
  char buf[INET6_ADDRSTRLEN];
  if (host.empty() || host.size() >= sizeof buf) return false;
  host.copy(buf, host.size());
  buf[host.size()] = '\0';
  if (inet_pton(AF_INET, buf, out->ip) == 1) {
    out->family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out->ip) == 1) {
    out->family = AF_INET6;
    return true;
  }
  return false;
}

std::chrono::milliseconds to_ms(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}
}  // namespace

absl::StatusOr<NameserverAddress> parse_nameserver(std::string_view text) {
  NameserverAddress out;
  std::string_view host = text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return absl::InvalidArgumentError(absl::StrCat(quoted(text), " has no closing ]"));
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !parse_port(rest.substr(1), &out.port)))
      return absl::InvalidArgumentError(absl::StrCat(quoted(text), " has no valid port after ]: (1..65535)"));
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);  // exactly one colon: IPv4 with a port
    if (!parse_port(text.substr(colon + 1), &out.port))
      return absl::InvalidArgumentError(absl::StrCat(quoted(text), " has no valid port (1..65535)"));
  }
  if (!parse_ip(host, &out) || (text.front() == '[' && out.family != AF_INET6))
    return absl::InvalidArgumentError(
        absl::StrCat(quoted(text), " is not an IP address with an optional port (1.2.3.4, 1.2.3.4:53, [::1]:53)"));
  return out;
}

absl::StatusOr<DnsOptions> parse_dns_options(const YAML::Node& cfg, std::string_view base) {
  DnsOptions out;
  if (!cfg || !cfg.IsMap()) return out;
  auto at = [&](const char* key) { return absl::StrCat(to_absl(base), ".", key); };
  if (YAML::Node n = cfg["nameservers"]) {
    if (!n.IsSequence()) return path_error(at("nameservers"), "must be a list of \"ip[:port]\" strings");
    for (size_t i = 0; i < n.size(); ++i) {
      std::string path = absl::StrCat(at("nameservers"), "[", i, "]");
      absl::StatusOr<std::string> text = config::scalar(n[i], path);
      if (!text.ok()) return text.status();
      if (absl::StatusOr<NameserverAddress> a = parse_nameserver(*text); !a.ok())
        return path_error(path, to_std(a.status().message()));
      out.nameservers.push_back(*text);
    }
  }
  if (YAML::Node n = cfg["dnsTimeout"]) {
    auto d = config::duration_at(n, at("dnsTimeout"));
    if (!d.ok()) return d.status();
    if (*d < std::chrono::milliseconds(10) || *d > std::chrono::seconds(30))
      return path_error(at("dnsTimeout"), "must be between 10ms and 30s");
    out.timeout = to_ms(*d);
  }
  if (YAML::Node n = cfg["dnsTries"]) {
    auto v = config::int_at(n, at("dnsTries"), 1, 10);
    if (!v.ok()) return v.status();
    out.tries = static_cast<int>(*v);
  }
  if (YAML::Node n = cfg["maxStale"]) {
    auto d = config::duration_at(n, at("maxStale"));
    if (!d.ok()) return d.status();
    if (*d < std::chrono::nanoseconds(0)) return path_error(at("maxStale"), "must not be negative");
    out.max_stale = to_ms(*d);
  }
  if (YAML::Node n = cfg["negativeTtl"]) {
    auto d = config::duration_at(n, at("negativeTtl"));
    if (!d.ok()) return d.status();
    if (*d < std::chrono::milliseconds(100)) return path_error(at("negativeTtl"), "must be at least 100ms");
    out.negative_ttl = to_ms(*d);
  }
  return out;
}

}  // namespace ringside::dns
