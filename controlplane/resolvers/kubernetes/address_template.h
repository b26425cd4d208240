// AddressTemplate: the subset of Go text/template that daprd's kubernetes resolver is used with
// (`configuration.template`, executed over nameresolution.ResolveRequest): literal text and the
// actions {{.ID}}, {{.Namespace}}, {{.Port}} and {{.Data.key}}, with optional spaces inside the
// braces. Anything else (pipelines, functions, trim markers, comments, other fields) is
// rejected when the Configuration is read rather than misrendered at call time.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::resolvers {

// The ResolveRequest fields a template may use.
struct TemplateValues {
  std::string_view id;                             // .ID: target app id
  std::string_view ns;                             // .Namespace: target namespace
  int port = 0;                                    // .Port: the caller's internal gRPC port
  const std::map<std::string, std::string>* data = nullptr;  // .Data (daprd never fills it)
};

class AddressTemplate {
 public:
  // Errors say what is wrong and where ("{{.Foo}} at offset 7 is not supported ..."); the
  // caller prefixes the configuration path.
  static absl::StatusOr<AddressTemplate> parse(std::string_view text);
  // A missing .Data key renders as Go does for a missing map key: "<no value>".
  std::string render(const TemplateValues& values) const;

 private:
  enum class Kind { kText, kId, kNamespace, kPort, kData };
  struct Piece {
    Kind kind = Kind::kText;  // what to emit
    std::string text;         // kText: the literal; kData: the key
  };
  std::vector<Piece> pieces_;  // in template order
};

}  // namespace ringside::resolvers
