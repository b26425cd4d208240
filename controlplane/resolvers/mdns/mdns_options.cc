#include "controlplane/resolvers/mdns/mdns_options.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "controlplane/config/yaml_fields.h"
#include "yaml-cpp/yaml.h"

namespace ringside::mdns {
namespace {

constexpr std::string_view kBase = "spec.nameResolution.configuration";

std::string at(const char* key) { return std::string(kBase) + "." + key; }

// A host label goes into DNS names: one label of letters, digits and '-'.
bool valid_host_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
  return true;
}

}  // namespace

absl::StatusOr<MdnsOptions> parse_mdns_options(std::string_view configuration_yaml) {
  MdnsOptions out;
  if (configuration_yaml.empty()) return out;
  YAML::Node cfg;
  try {
    cfg = YAML::Load(std::string(configuration_yaml));
  } catch (const YAML::Exception& e) {
    return config::path_error(kBase, e.what());
  }
  if (!cfg || cfg.IsNull()) return out;
  if (!cfg.IsMap()) return config::path_error(kBase, "must be a map");
  if (const YAML::Node n = cfg["interfaces"]) {
    if (n.IsScalar()) {
      // One name is accepted as a scalar too (`interfaces: eth0`).
      absl::StatusOr<std::string> name = config::scalar(n, at("interfaces"));
      if (!name.ok()) return name.status();
      out.interfaces.push_back(*name);
    } else if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i) {
        const std::string path = absl::StrCat(at("interfaces"), "[", i, "]");
        absl::StatusOr<std::string> name = config::scalar(n[i], path);
        if (!name.ok()) return name.status();
        if (name->empty()) return config::path_error(path, "must name an interface");
        out.interfaces.push_back(*name);
      }
    } else if (!n.IsNull()) {
      return config::path_error(at("interfaces"), "must be a list of interface names");
    }
  }
  if (const YAML::Node n = cfg["hostName"]) {
    absl::StatusOr<std::string> name = config::scalar(n, at("hostName"));
    if (!name.ok()) return name.status();
    if (!valid_host_label(*name))
      return config::path_error(at("hostName"), absl::StrCat(config::quoted(*name),
                                                             " is not a host label (letters, digits, '-', at most 63)"));
    out.host_name = *name;
  }
  return out;
}

}  // namespace ringside::mdns
