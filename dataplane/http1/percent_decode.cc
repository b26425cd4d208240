#include "dataplane/http1/percent_decode.h"

#include "dataplane/http1/char_class.h"

namespace ringside::http1 {
namespace {

bool decode(std::string_view in, std::span<char> out, bool plus_is_space, std::string_view* decoded) {
  if (out.size() < in.size()) return false;
  size_t w = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;  // needs two more bytes
      int hi = hex_value(static_cast<uint8_t>(in[i + 1]));
      int lo = hex_value(static_cast<uint8_t>(in[i + 2]));
      if (hi < 0 || lo < 0) return false;
      out[w++] = static_cast<char>((hi << 4) | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out[w++] = ' ';
    } else {
      out[w++] = c;
    }
  }
  *decoded = std::string_view(out.data(), w);
  return true;
}

}  // namespace

bool has_valid_percent_escapes(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size()) return false;  // needs two more bytes
    if (hex_value(static_cast<uint8_t>(s[i + 1])) < 0 || hex_value(static_cast<uint8_t>(s[i + 2])) < 0)
      return false;
    i += 2;
  }
  return true;
}

bool percent_decode_path(std::string_view in, std::span<char> out, std::string_view* decoded) {
  return decode(in, out, false, decoded);
}

bool query_unescape(std::string_view in, std::span<char> out, std::string_view* decoded) {
  return decode(in, out, true, decoded);
}

}  // namespace ringside::http1
