#include "dataplane/grpc/message_encoding.h"

namespace ringside::grpc {
namespace {

bool needs_escape(unsigned char c) { return c < 0x20 || c > 0x7e || c == '%'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

size_t percent_encoded_size(std::string_view msg) {
  size_t n = 0;
  for (char c : msg) n += needs_escape(static_cast<unsigned char>(c)) ? 3 : 1;
  return n;
}

size_t percent_encode(std::string_view msg, char* out, size_t cap) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (char ch : msg) {
    auto c = static_cast<unsigned char>(ch);
    if (needs_escape(c)) {
      if (n + 3 > cap) return 0;
      out[n++] = '%';
      out[n++] = kHex[c >> 4];
      out[n++] = kHex[c & 0xf];
    } else {
      if (n + 1 > cap) return 0;
      out[n++] = ch;
    }
  }
  return n;
}

size_t percent_decode(std::string_view v, char* out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < v.size() && n < cap; ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      int hi = hex_value(v[i + 1]);
      int lo = hex_value(v[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = static_cast<char>(hi << 4 | lo);
        i += 2;
        continue;
      }
    }
    out[n++] = v[i];
  }
  return n;
}

}  // namespace ringside::grpc
