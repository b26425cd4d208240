#pragma once
// Byte classes of RFC 9110/9112 used by the HTTP/1.1 parsers and helpers. Table driven so the
// hot loops are one load per byte; everything here is constexpr and allocation-free.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringside::http1 {
namespace detail {

constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<uint8_t>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kTchar = make_tchar_table();

constexpr std::array<int8_t, 256> make_hex_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}
inline constexpr std::array<int8_t, 256> kHex = make_hex_table();

}  // namespace detail

// token character (method names, header names, transfer codings).
constexpr bool is_tchar(uint8_t c) { return detail::kTchar[c]; }
// Allowed inside a header field value: VCHAR, SP, HTAB and obs-text (>= 0x80); no other CTL.
constexpr bool is_field_value_char(uint8_t c) { return c >= 0x20 ? c != 0x7F : c == '\t'; }
// Allowed in a request-target: visible ASCII and obs-text; no space, no CTL (Go rejects CTLs).
constexpr bool is_target_char(uint8_t c) { return c > 0x20 && c != 0x7F; }
// Optional whitespace.
constexpr bool is_ows(uint8_t c) { return c == ' ' || c == '\t'; }
// Hex digit value, or -1.
constexpr int hex_value(uint8_t c) { return detail::kHex[c]; }
constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// ASCII case-insensitive equality.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// Strips leading and trailing SP/HTAB.
constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(static_cast<uint8_t>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && is_ows(static_cast<uint8_t>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace ringside::http1
