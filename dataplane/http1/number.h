#pragma once
// Integer parsing and formatting without allocation, locale or exceptions.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringside::http1 {

// Decimal digits only (no sign, no whitespace, not empty). False on overflow of uint64.
bool parse_decimal_u64(std::string_view s, uint64_t* out);
// Hex digits only (either case, not empty). False on overflow of uint64.
bool parse_hex_u64(std::string_view s, uint64_t* out);

// Longest output of the formatters below.
inline constexpr size_t kMaxDecimalDigits = 20;
inline constexpr size_t kMaxHexDigits = 16;
// Writes v in decimal to out (room for kMaxDecimalDigits); returns the number of chars.
size_t format_decimal(uint64_t v, char* out);
// Writes v in lower-case hex, no leading zeros ("0" for 0); returns the number of chars.
size_t format_hex(uint64_t v, char* out);

}  // namespace ringside::http1
