#include "dataplane/http1/canonical_header_key.h"

#include <cstdint>

#include "dataplane/http1/char_class.h"

namespace ringside::http1 {

std::string_view canonical_header_key(std::string_view key, std::span<char> out) {
  bool upper = true;  // next letter starts a word (first byte or after '-')
  bool canonical = true;
  for (char ch : key) {
    if (!is_tchar(static_cast<uint8_t>(ch))) return key;
    if (upper && ch >= 'a' && ch <= 'z') canonical = false;
    if (!upper && ch >= 'A' && ch <= 'Z') canonical = false;
    upper = ch == '-';
  }
  if (canonical || out.size() < key.size()) return key;
  upper = true;
  for (size_t i = 0; i < key.size(); ++i) {
    char ch = key[i];
    out[i] = upper ? ascii_upper(ch) : ascii_lower(ch);
    upper = ch == '-';
  }
  return {out.data(), key.size()};
}

}  // namespace ringside::http1
