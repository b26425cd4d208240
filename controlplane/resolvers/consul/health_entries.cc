#include "controlplane/resolvers/consul/health_entries.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/value_parsers.h"
#include "nlohmann/json.hpp"

namespace ringside::resolvers::consul {

namespace {

using Json = nlohmann::json;

// A string member of an object, "" when absent or not a string.
std::string text_of(const Json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

bool host_is_plausible(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    // Zone ids (%eth0), spaces, slashes and control bytes cannot be dialled from an address text.
    if (c == '%' || c == '/' || c == '[' || c == ']' || static_cast<unsigned char>(c) <= ' ') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<HealthAddresses> addresses_from_health(std::string_view body, std::string_view port_meta_key) {
  Json doc = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::DataLossError("answer is not JSON");
  if (doc.is_null()) doc = Json::array();  // Consul answers `null` for no entries in some versions
  if (!doc.is_array()) return absl::DataLossError("answer is not a JSON array of service entries");
  HealthAddresses out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const Json& entry = doc[i];
    if (!entry.is_object()) return absl::DataLossError(absl::StrCat("entry [", i, "] is not an object"));
    const Json* service = entry.contains("Service") ? &entry["Service"] : nullptr;
    const Json* node = entry.contains("Node") ? &entry["Node"] : nullptr;
    const std::string id = service ? text_of(*service, "ID") : std::string();
    const std::string label = absl::StrCat("entry [", i, "]", id.empty() ? "" : " (", id, id.empty() ? "" : ")");
    bool passing = true;
    if (auto checks = entry.find("Checks"); checks != entry.end() && checks->is_array()) {
      for (const Json& c : *checks) {
        if (text_of(c, "Status") != "passing") passing = false;
      }
    }
    if (!passing) {
      out.skipped.push_back(absl::StrCat(label, ": a check is not passing"));
      continue;
    }
    std::string port_text;
    if (service && service->is_object()) {
      if (auto meta = service->find("Meta"); meta != service->end() && meta->is_object()) {
        port_text = text_of(*meta, std::string(port_meta_key).c_str());
      }
    }
    if (port_text.empty()) {
      out.skipped.push_back(absl::StrCat(label, ": Service.Meta has no ", config::to_absl(port_meta_key)));
      continue;
    }
    std::optional<uint16_t> port = config::parse_port(port_text);
    if (!port || *port == 0) {
      out.skipped.push_back(absl::StrCat(label, ": Service.Meta.", config::to_absl(port_meta_key), " \"", port_text, "\" is not a port"));
      continue;
    }
    std::string host = service ? text_of(*service, "Address") : std::string();
    if (host.empty() && node) host = text_of(*node, "Address");
    if (host.empty()) {
      out.skipped.push_back(absl::StrCat(label, ": neither Service.Address nor Node.Address is set"));
      continue;
    }
    if (!host_is_plausible(host)) {
      out.skipped.push_back(absl::StrCat(label, ": address \"", host.substr(0, 64), "\" cannot be dialled"));
      continue;
    }
    // daprd's formatAddress: IPv6 in brackets, IPv4 and host names as they are.
    const bool ipv6 = host.find(':') != std::string::npos;
    out.addresses.push_back(absl::StrCat(ipv6 ? "[" : "", host, ipv6 ? "]" : "", ":", *port));
  }
  std::sort(out.addresses.begin(), out.addresses.end());
  out.addresses.erase(std::unique(out.addresses.begin(), out.addresses.end()), out.addresses.end());
  return out;
}

}  // namespace ringside::resolvers::consul
