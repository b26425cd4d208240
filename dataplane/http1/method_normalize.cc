#include "dataplane/http1/method_normalize.h"

#include <cstdint>

#include "dataplane/http1/path_clean.h"

namespace ringside::http1 {

MethodCheck normalize_method(std::string_view method, std::span<char> out,
                             std::string_view* normalized) {
  *normalized = {};
  for (char ch : method) {
    uint8_t c = static_cast<uint8_t>(ch);
    if (c < 0x20 || c == 0x7F || c == '#' || c == '?') return MethodCheck::kInvalid;
  }
  if (method.empty()) return MethodCheck::kOk;
  if (out.size() < method.size() + 1) return MethodCheck::kNoSpace;
  std::string_view c = path_clean_rooted(method, out);  // starts with '/'
  size_t len = c.size();
  if (method.back() == '/' && len > 1) out[len++] = '/';
  *normalized = std::string_view(out.data() + 1, len - 1);
  return MethodCheck::kOk;
}

}  // namespace ringside::http1
