// Typed reads of YAML fields with errors that name the field's path, shared by every parser of
// the Configuration (resolver options included): `<path>: "abc" is not a duration`.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace ringside::config {

absl::Status path_error(std::string_view path, std::string_view problem);
// "<path>.<key>".
std::string join_path(std::string_view path, std::string_view key);
// Error naming the first key of `map` not in `keys` ("<path>.<key>: unknown key (expected one of: ...)").
absl::Status known_keys(const YAML::Node& map, std::string_view path, std::initializer_list<std::string_view> keys);
std::string quoted(std::string_view v);
// Scalar text of a node, or an error when it is a map/list.
absl::StatusOr<std::string> scalar(const YAML::Node& node, std::string_view path);
absl::StatusOr<std::chrono::nanoseconds> duration_at(const YAML::Node& node, std::string_view path);
absl::StatusOr<int64_t> int_at(const YAML::Node& node, std::string_view path, int64_t min, int64_t max);
absl::StatusOr<bool> bool_at(const YAML::Node& node, std::string_view path);

// Resolver components ringside implements (spec.nameResolution.component).
bool is_known_resolver(std::string_view component);
std::string known_resolvers_text();

}  // namespace ringside::config
