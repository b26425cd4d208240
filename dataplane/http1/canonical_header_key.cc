#include "dataplane/http1/canonical_header_key.h"

#include <cstdint>

#include "dataplane/http1/char_class.h"

namespace ringside::http1 {

std::string_view canonical_header_key(std::string_view key, std::span<char> out) {
  if (out.size() < key.size()) return key;
  // One pass: write the canonical form while checking; the key itself when nothing changed.
  bool upper = true;  // next letter starts a word (first byte or after '-')
  bool changed = false;
  for (size_t i = 0; i < key.size(); ++i) {
    const char ch = key[i];
    if (!is_tchar(static_cast<uint8_t>(ch))) return key;
    const char want = upper ? ascii_upper(ch) : ascii_lower(ch);
    changed |= want != ch;
    out[i] = want;
    upper = ch == '-';
  }
  return changed ? std::string_view(out.data(), key.size()) : key;
}

}  // namespace ringside::http1
