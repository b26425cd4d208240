#include "dataplane/http1/number.h"

#include "dataplane/http1/char_class.h"

namespace ringside::http1 {

bool parse_decimal_u64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    uint64_t d = static_cast<uint64_t>(ch - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool parse_hex_u64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char ch : s) {
    int d = hex_value(static_cast<uint8_t>(ch));
    if (d < 0) return false;
    if (v >> 60) return false;  // next shift would drop bits
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

size_t format_decimal(uint64_t v, char* out) {
  char tmp[kMaxDecimalDigits];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

size_t format_hex(uint64_t v, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char tmp[kMaxHexDigits];
  size_t n = 0;
  do {
    tmp[n++] = kDigits[v & 0xF];
    v >>= 4;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

}  // namespace ringside::http1
