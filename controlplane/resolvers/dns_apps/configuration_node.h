// The resolver's `configuration` map as a YAML node (config::NameResolution keeps it as text).
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace ringside::resolvers {

// Path of the configuration map in error messages.
inline constexpr std::string_view kConfigurationPath = "spec.nameResolution.configuration";

// Null node when `yaml_text` is empty; an error when it is not a map.
absl::StatusOr<YAML::Node> configuration_node(std::string_view yaml_text);

// The scalar string at `key` ("" when absent); an error naming the path when it is a list/map.
absl::StatusOr<std::string> optional_string(const YAML::Node& cfg, const char* key);

}  // namespace ringside::resolvers
