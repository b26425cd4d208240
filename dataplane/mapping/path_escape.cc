#include "dataplane/mapping/path_escape.h"

namespace ringside::invoke {
namespace {

// RFC 3986 pchar plus '/': unreserved, sub-delims, ':' and '@' stay as they are.
bool path_safe(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
    case '(': case ')': case '*': case '+': case ',': case ';': case '=': case ':': case '@':
    case '/':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool append_method_path(mem::Buffer* out, std::string_view method) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (method.empty() || method[0] != '/') {
    if (!out->append("/")) return false;
  }
  size_t start = 0;
  for (size_t i = 0; i < method.size(); ++i) {
    auto c = static_cast<unsigned char>(method[i]);
    if (path_safe(c)) continue;
    char esc[3] = {'%', kHex[c >> 4], kHex[c & 15]};
    if (!out->append(method.substr(start, i - start)) || !out->append(esc, 3)) return false;
    start = i + 1;
  }
  return out->append(method.substr(start));
}

}  // namespace ringside::invoke
