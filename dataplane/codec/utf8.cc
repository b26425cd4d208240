#include "dataplane/codec/utf8.h"

#include <cstdint>
#include <cstring>

namespace ringside::codec {

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* end = p + s.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time.
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ull) == 0) { p += 8; continue; }
    }
    uint8_t b = *p;
    if (b < 0x80) { ++p; continue; }
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf) {
      n = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 3;
      if (b == 0xe0) lo = 0xa0;        // overlong
      else if (b == 0xed) hi = 0x9f;   // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 4;
      if (b == 0xf0) lo = 0x90;        // overlong
      else if (b == 0xf4) hi = 0x8f;   // > U+10FFFF
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t i = 2; i < n; ++i)
      if (p[i] < 0x80 || p[i] > 0xbf) return false;
    p += n;
  }
  return true;
}

}  // namespace ringside::codec
