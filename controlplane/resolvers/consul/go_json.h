// YAML → JSON the way daprd turns `spec.nameResolution.configuration` into Consul API structs:
// daprd decodes the YAML into Go structs with encoding/json (keys match field names
// case-insensitively, unknown keys are dropped) and the Consul client re-encodes them with the
// Go field names and `omitempty` rules. A Schema lists those fields, so the JSON we PUT to
// /v1/agent/service/register is the JSON daprd would PUT.
#pragma once

#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace ringside::resolvers::consul {

using Json = nlohmann::ordered_json;  // keeps Go's struct field order in what we send

struct Schema;

enum class FieldKind {
  kString,         // string
  kInt,            // int / uint (Go JSON number)
  kBool,           // bool
  kStringList,     // []string
  kStringMap,      // map[string]string
  kStringListMap,  // map[string][]string (check headers)
  kObject,         // *struct (schema)
  kObjectList,     // []*struct (schema)
  kObjectMap,      // map[string]struct (schema)
  kAny,            // map[string]interface{} (proxy config): YAML scalars typed as YAML 1.2 core
};

struct Field {
  std::string_view go_name;    // field name in daprd's intermediate struct (what users write)
  std::string_view json_name;  // key in the JSON the Consul client sends
  FieldKind kind;              // value shape
  const Schema* schema;        // for kObject/kObjectList/kObjectMap, else nullptr
  bool omit_empty;             // `json:",omitempty"`: zero values are left out
};

struct Schema {
  std::span<const Field> fields;  // in Go declaration order
};

// Consul API structs daprd exposes in its configuration.
const Schema& agent_service_check_schema();         // consul.AgentServiceCheck
const Schema& agent_service_registration_schema();  // consul.AgentServiceRegistration

// Converts a YAML map into the JSON object the Go client would send. Fields absent from the
// YAML are emitted as their zero value unless omit_empty. Errors name `path` and the key.
absl::StatusOr<Json> to_go_json(const YAML::Node& node, const Schema& schema, std::string_view path);

// The child of a YAML map whose key equals `name` ignoring ASCII case (Go's encoding/json rule);
// an undefined node when there is none or `map` is not a map.
YAML::Node child_ignoring_case(const YAML::Node& map, std::string_view name);

}  // namespace ringside::resolvers::consul
