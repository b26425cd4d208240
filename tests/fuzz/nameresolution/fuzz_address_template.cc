// libFuzzer target: the kubernetes resolver's template parser (configuration.template) and
// renderer. Input: the template text. Checks: parsing never crashes, and a template that parses
// renders without crashing; text without "{{" renders unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "controlplane/resolvers/kubernetes/address_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ringside::resolvers::AddressTemplate> t = ringside::resolvers::AddressTemplate::parse(text);
  if (!t.ok()) {
    if (text.find("{{") == std::string_view::npos) std::abort();  // plain text always parses
    return 0;
  }
  std::map<std::string, std::string> values{{"x", "value"}, {"region", "eu"}};
  std::string with_data = t->render({"app-id", "namespace", 50002, &values});
  std::string without = t->render({"", "", 0, nullptr});
  if (text.find("{{") == std::string_view::npos && (with_data != text || without != text)) std::abort();
  return 0;
}
