#include "dataplane/mapping/dapr_error.h"

namespace ringside::invoke {

bool append_json_escaped(mem::Buffer* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (!out->append(s.substr(start, i - start))) return false;
    char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
    bool ok;
    switch (c) {
      case '"': ok = out->append("\\\""); break;
      case '\\': ok = out->append("\\\\"); break;
      case '\n': ok = out->append("\\n"); break;
      case '\r': ok = out->append("\\r"); break;
      case '\t': ok = out->append("\\t"); break;
      default: ok = out->append(esc, 6);
    }
    if (!ok) return false;
    start = i + 1;
  }
  return out->append(s.substr(start));
}

bool append_dapr_error_json(mem::Buffer* out, std::string_view code, std::string_view message) {
  return out->append("{\"errorCode\":\"") && append_json_escaped(out, code) &&
         out->append("\",\"message\":\"") && append_json_escaped(out, message) &&
         out->append("\"}");
}

}  // namespace ringside::invoke
