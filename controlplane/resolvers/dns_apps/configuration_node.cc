#include "controlplane/resolvers/dns_apps/configuration_node.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::resolvers {

absl::StatusOr<YAML::Node> configuration_node(std::string_view yaml_text) {
  if (yaml_text.empty()) return YAML::Node();
  YAML::Node node;
  try {
    node = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return config::path_error(kConfigurationPath, e.what());
  }
  if (node.IsNull()) return YAML::Node();
  if (!node.IsMap()) return config::path_error(kConfigurationPath, "must be a map");
  return node;
}

absl::StatusOr<std::string> optional_string(const YAML::Node& cfg, const char* key) {
  if (!cfg) return std::string();
  YAML::Node n = cfg[key];
  if (!n || n.IsNull()) return std::string();
  return config::scalar(n, absl::StrCat(config::to_absl(kConfigurationPath), ".", key));
}

}  // namespace ringside::resolvers
