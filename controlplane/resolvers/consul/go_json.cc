#include "controlplane/resolvers/consul/go_json.h"

#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/value_parsers.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::resolvers::consul {

namespace {

using K = FieldKind;

// Field tables follow github.com/hashicorp/consul/api (agent.go) and daprd's intermediate
// structs (components-contrib nameresolution/hashicorp/consul/configuration.go).
extern const Schema kRegistration;

constexpr Field kMeshGatewayFields[] = {{"Mode", "Mode", K::kString, nullptr, true}};
const Schema kMeshGateway{kMeshGatewayFields};

constexpr Field kExposePathFields[] = {
    {"ListenerPort", "ListenerPort", K::kInt, nullptr, true},
    {"Path", "Path", K::kString, nullptr, true},
    {"LocalPathPort", "LocalPathPort", K::kInt, nullptr, true},
    {"Protocol", "Protocol", K::kString, nullptr, true},
    {"ParsedFromCheck", "ParsedFromCheck", K::kBool, nullptr, true},
};
const Schema kExposePath{kExposePathFields};

const Field kExposeFields[] = {
    {"Checks", "Checks", K::kBool, nullptr, true},
    {"Paths", "Paths", K::kObjectList, &kExposePath, true},
};
const Schema kExpose{kExposeFields};

const Field kUpstreamFields[] = {
    {"DestinationType", "DestinationType", K::kString, nullptr, true},
    {"DestinationNamespace", "DestinationNamespace", K::kString, nullptr, true},
    {"DestinationName", "DestinationName", K::kString, nullptr, false},
    {"Datacenter", "Datacenter", K::kString, nullptr, true},
    {"LocalBindAddress", "LocalBindAddress", K::kString, nullptr, true},
    {"LocalBindPort", "LocalBindPort", K::kInt, nullptr, true},
    {"Config", "Config", K::kAny, nullptr, true},
    // Go's omitempty never drops a struct value: an absent MeshGateway is sent as {}.
    {"MeshGateway", "MeshGateway", K::kObject, &kMeshGateway, false},
};
const Schema kUpstream{kUpstreamFields};

const Field kProxyFields[] = {
    {"DestinationServiceName", "DestinationServiceName", K::kString, nullptr, true},
    {"DestinationServiceID", "DestinationServiceID", K::kString, nullptr, true},
    {"LocalServiceAddress", "LocalServiceAddress", K::kString, nullptr, true},
    {"LocalServicePort", "LocalServicePort", K::kInt, nullptr, true},
    {"Config", "Config", K::kAny, nullptr, true},
    {"Upstreams", "Upstreams", K::kObjectList, &kUpstream, true},
    {"MeshGateway", "MeshGateway", K::kObject, &kMeshGateway, false},
    {"Expose", "Expose", K::kObject, &kExpose, false},
};
const Schema kProxy{kProxyFields};

const Field kConnectFields[] = {
    {"Native", "Native", K::kBool, nullptr, true},
    {"SidecarService", "SidecarService", K::kObject, &kRegistration, true},
};
const Schema kConnect{kConnectFields};

constexpr Field kWeightsFields[] = {
    {"Passing", "Passing", K::kInt, nullptr, false},
    {"Warning", "Warning", K::kInt, nullptr, false},
};
const Schema kWeights{kWeightsFields};

constexpr Field kServiceAddressFields[] = {
    {"Address", "Address", K::kString, nullptr, false},
    {"Port", "Port", K::kInt, nullptr, false},
};
const Schema kServiceAddress{kServiceAddressFields};

constexpr Field kCheckFields[] = {
    {"CheckID", "CheckID", K::kString, nullptr, true},
    {"Name", "Name", K::kString, nullptr, true},
    {"Args", "ScriptArgs", K::kStringList, nullptr, true},
    {"DockerContainerID", "DockerContainerID", K::kString, nullptr, true},
    {"Shell", "Shell", K::kString, nullptr, true},
    {"Interval", "Interval", K::kString, nullptr, true},
    {"Timeout", "Timeout", K::kString, nullptr, true},
    {"TTL", "TTL", K::kString, nullptr, true},
    {"HTTP", "HTTP", K::kString, nullptr, true},
    {"Header", "Header", K::kStringListMap, nullptr, true},
    {"Method", "Method", K::kString, nullptr, true},
    {"TCP", "TCP", K::kString, nullptr, true},
    {"Status", "Status", K::kString, nullptr, true},
    {"Notes", "Notes", K::kString, nullptr, true},
    {"TLSSkipVerify", "TLSSkipVerify", K::kBool, nullptr, true},
    {"GRPC", "GRPC", K::kString, nullptr, true},
    {"GRPCUseTLS", "GRPCUseTLS", K::kBool, nullptr, true},
    {"AliasNode", "AliasNode", K::kString, nullptr, true},
    {"AliasService", "AliasService", K::kString, nullptr, true},
    {"DeregisterCriticalServiceAfter", "DeregisterCriticalServiceAfter", K::kString, nullptr, true},
};
const Schema kCheck{kCheckFields};

const Field kRegistrationFields[] = {
    {"Kind", "Kind", K::kString, nullptr, true},
    {"ID", "ID", K::kString, nullptr, true},
    {"Name", "Name", K::kString, nullptr, true},
    {"Tags", "Tags", K::kStringList, nullptr, true},
    {"Port", "Port", K::kInt, nullptr, true},
    {"Address", "Address", K::kString, nullptr, true},
    {"TaggedAddresses", "TaggedAddresses", K::kObjectMap, &kServiceAddress, true},
    {"EnableTagOverride", "EnableTagOverride", K::kBool, nullptr, true},
    {"Meta", "Meta", K::kStringMap, nullptr, true},
    {"Weights", "Weights", K::kObject, &kWeights, true},
    {"Check", "Check", K::kObject, &kCheck, false},
    {"Checks", "Checks", K::kObjectList, &kCheck, false},
    {"Proxy", "Proxy", K::kObject, &kProxy, true},
    {"Connect", "Connect", K::kObject, &kConnect, true},
};
const Schema kRegistration{kRegistrationFields};

bool is_empty(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number()) return v == 0;
  if (v.is_array() || v.is_object()) return v.empty();
  return false;
}

std::string sub(std::string_view path, std::string_view key) {
  return absl::StrCat(config::to_absl(path), ".", config::to_absl(key));
}

absl::StatusOr<std::string> string_at(const YAML::Node& n, std::string_view path) {
  if (n.IsNull()) return std::string();
  return config::scalar(n, path);
}

absl::StatusOr<std::vector<std::string>> string_list_at(const YAML::Node& n, std::string_view path) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) return config::path_error(path, "must be a list");
  for (size_t i = 0; i < n.size(); ++i) {
    absl::StatusOr<std::string> s = string_at(n[i], absl::StrCat(config::to_absl(path), "[", i, "]"));
    if (!s.ok()) return s.status();
    out.push_back(*std::move(s));
  }
  return out;
}

// Untyped YAML (Go's interface{}): YAML 1.2 core-schema typing of plain scalars.
Json any_json(const YAML::Node& n) {
  if (n.IsNull() || !n.IsDefined()) return nullptr;
  if (n.IsSequence()) {
    Json a = Json::array();
    for (const YAML::Node& e : n) a.push_back(any_json(e));
    return a;
  }
  if (n.IsMap()) {
    std::map<std::string, Json> sorted;  // Go's encoding/json writes map keys sorted
    for (const auto& kv : n) sorted[kv.first.Scalar()] = any_json(kv.second);
    Json o = Json::object();
    for (auto& [k, v] : sorted) o[k] = std::move(v);
    return o;
  }
  const std::string& s = n.Scalar();
  if (n.Tag() != "!") {  // quoted scalars stay strings
    if (s == "true") return true;
    if (s == "false") return false;
    if (auto i = config::parse_int(s)) return *i;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && s.find_first_of("0123456789") != std::string::npos) return d;
  }
  return s;
}

absl::StatusOr<Json> value_json(const YAML::Node& n, const Field& f, std::string_view path) {
  switch (f.kind) {
    case K::kString: {
      absl::StatusOr<std::string> s = string_at(n, path);
      if (!s.ok()) return s.status();
      return Json(*s);
    }
    case K::kInt: {
      if (n.IsNull()) return Json(0);
      absl::StatusOr<int64_t> v = config::int_at(n, path, -(int64_t{1} << 53), int64_t{1} << 53);
      if (!v.ok()) return v.status();
      return Json(*v);
    }
    case K::kBool: {
      if (n.IsNull()) return Json(false);
      absl::StatusOr<bool> v = config::bool_at(n, path);
      if (!v.ok()) return v.status();
      return Json(*v);
    }
    case K::kStringList: {
      if (n.IsNull()) return Json(nullptr);
      absl::StatusOr<std::vector<std::string>> l = string_list_at(n, path);
      if (!l.ok()) return l.status();
      return Json(*l);
    }
    case K::kStringMap:
    case K::kStringListMap:
    case K::kObjectMap: {
      if (n.IsNull()) return Json(nullptr);
      if (!n.IsMap()) return config::path_error(path, "must be a map");
      std::map<std::string, Json> sorted;  // Go's encoding/json writes map keys sorted
      for (const auto& kv : n) {
        const std::string key = kv.first.Scalar();
        const std::string at = sub(path, key);
        absl::StatusOr<Json> v = Json();
        if (f.kind == K::kStringMap) {
          absl::StatusOr<std::string> s = string_at(kv.second, at);
          if (!s.ok()) return s.status();
          v = Json(*s);
        } else if (f.kind == K::kStringListMap) {
          absl::StatusOr<std::vector<std::string>> l = string_list_at(kv.second, at);
          if (!l.ok()) return l.status();
          v = Json(*l);
        } else {
          v = to_go_json(kv.second, *f.schema, at);
        }
        if (!v.ok()) return v.status();
        sorted[key] = *std::move(v);
      }
      Json o = Json::object();
      for (auto& [k, v] : sorted) o[k] = std::move(v);
      return o;
    }
    case K::kObject:
      if (n.IsNull()) return Json(nullptr);
      return to_go_json(n, *f.schema, path);
    case K::kObjectList: {
      if (n.IsNull()) return Json(nullptr);
      if (!n.IsSequence()) return config::path_error(path, "must be a list");
      Json a = Json::array();
      for (size_t i = 0; i < n.size(); ++i) {
        const std::string at = absl::StrCat(config::to_absl(path), "[", i, "]");
        if (n[i].IsNull()) {
          a.push_back(nullptr);
          continue;
        }
        absl::StatusOr<Json> v = to_go_json(n[i], *f.schema, at);
        if (!v.ok()) return v.status();
        a.push_back(*std::move(v));
      }
      return a;
    }
    case K::kAny:
      return any_json(n);
  }
  return Json(nullptr);
}

// Zero value of an absent field that is not omitempty: struct values become objects of their
// own zero fields, pointers/slices/maps null.
Json zero_json(const Field& f) {
  switch (f.kind) {
    case K::kString: return "";
    case K::kInt: return 0;
    case K::kBool: return false;
    case K::kObject: {
      // Only non-omitempty *pointer* fields (Check) are null; struct values (MeshGateway,
      // Expose) are {} plus their own non-omitempty zeros.
      if (f.go_name == "Check") return nullptr;
      Json o = Json::object();
      for (const Field& g : f.schema->fields) {
        if (!g.omit_empty) o[std::string(g.json_name)] = zero_json(g);
      }
      return o;
    }
    default: return nullptr;
  }
}

}  // namespace

const Schema& agent_service_check_schema() { return kCheck; }
const Schema& agent_service_registration_schema() { return kRegistration; }

YAML::Node child_ignoring_case(const YAML::Node& map, std::string_view name) {
  if (!map || !map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  YAML::Node folded(YAML::NodeType::Undefined);
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) continue;
    const std::string& key = kv.first.Scalar();
    if (key == name) return kv.second;  // an exact match wins, as in encoding/json
    if (!folded.IsDefined() && absl::EqualsIgnoreCase(key, config::to_absl(name))) folded.reset(kv.second);
  }
  return folded;
}

absl::StatusOr<Json> to_go_json(const YAML::Node& node, const Schema& schema, std::string_view path) {
  if (!node.IsMap()) return config::path_error(path, "must be a map");
  Json out = Json::object();
  for (const Field& f : schema.fields) {
    YAML::Node n = child_ignoring_case(node, f.go_name);
    if (!n.IsDefined()) {
      if (!f.omit_empty) out[std::string(f.json_name)] = zero_json(f);
      continue;
    }
    // The path names the key as the user wrote it (first letter lower, daprd's docs style).
    std::string key(f.go_name);
    for (const auto& kv : node) {
      if (kv.first.IsScalar() && absl::EqualsIgnoreCase(kv.first.Scalar(), config::to_absl(f.go_name))) {
        key = kv.first.Scalar();
        break;
      }
    }
    absl::StatusOr<Json> v = value_json(n, f, sub(path, key));
    if (!v.ok()) return v.status();
    if (f.omit_empty && is_empty(*v)) continue;
    out[std::string(f.json_name)] = *std::move(v);
  }
  return out;
}

}  // namespace ringside::resolvers::consul
