#include "controlplane/resolvers/consul/registration.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"

namespace ringside::resolvers::consul {

std::string host_of(std::string_view hp) {
  if (!hp.empty() && hp.front() == '[') {
    size_t close = hp.find(']');
    return std::string(hp.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  size_t colon = hp.rfind(':');
  return std::string(colon == std::string_view::npos ? hp : hp.substr(0, colon));
}

namespace {
// Go's net.JoinHostPort (brackets around IPv6 hosts).
std::string join_host_port(std::string_view host, int port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  return absl::StrCat(v6 ? "[" : "", config::to_absl(host), v6 ? "]" : "", ":", port);
}
}  // namespace

absl::StatusOr<std::optional<Registration>> build_registration(const ConsulOptions& o, const SelfRegistration& self) {
  Registration r;
  const std::string dapr_port = absl::StrCat(self.internal_port);
  if (o.advanced_registration) {
    r.body = *o.advanced_registration;
    // Consul takes the name as the id when none is given; deregistration needs the same.
    r.service_id = r.body.value("ID", std::string());
    if (r.service_id.empty()) r.service_id = r.body.value("Name", std::string());
  } else if (o.self_register) {
    if (self.app_id.empty()) {
      return absl::InvalidArgumentError("spec.nameResolution.configuration.selfRegister: needs an app id (--app-id)");
    }
    const std::string host = host_of(self.address);
    const std::string http_port = absl::StrCat(self.http_port);
    r.service_id = absl::StrCat(self.app_id, "-", host, "-", http_port);
    Json checks;
    if (o.checks) {
      checks = *o.checks;
    } else {
      Json check = Json::object();
      check["CheckID"] = absl::StrCat("daprHealth:", r.service_id);
      check["Name"] = "Dapr Health Status";
      check["Interval"] = "15s";
      check["HTTP"] = absl::StrCat("http://", join_host_port(host, self.http_port),
                                   "/v1.0/healthz?appid=", self.app_id);
      checks = Json::array({check});
    }
    // consul/api AgentServiceRegistration field order and omitempty rules.
    Json& b = r.body;
    b = Json::object();
    b["ID"] = r.service_id;
    b["Name"] = self.app_id;
    if (o.tags.is_array() && !o.tags.empty()) b["Tags"] = o.tags;
    if (self.app_port != 0) b["Port"] = self.app_port;
    if (!host.empty()) b["Address"] = host;
    b["Meta"] = o.meta.is_object() ? o.meta : Json::object();
    b["Check"] = nullptr;
    b["Checks"] = checks;
  } else {
    return std::optional<Registration>();
  }
  // daprd adds the internal gRPC port to the metadata of every registration it sends.
  Json& meta = r.body["Meta"];
  std::map<std::string, Json> sorted;  // Go's encoding/json writes map keys sorted
  if (meta.is_object()) {
    for (auto& [k, v] : meta.items()) sorted[k] = v;
  }
  sorted[o.dapr_port_meta_key] = dapr_port;
  meta = Json::object();
  for (auto& [k, v] : sorted) meta[k] = std::move(v);
  return std::optional<Registration>(std::move(r));
}

}  // namespace ringside::resolvers::consul
