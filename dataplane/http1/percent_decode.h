#pragma once
// URL %-decoding as Go's net/url does it, into caller storage.
#include <cstddef>
#include <span>
#include <string_view>

namespace ringside::http1 {

// True if every '%' in s is followed by two hex digits.
bool has_valid_percent_escapes(std::string_view s);

// Path decoding (Go url.PathUnescape / URL.Path): "%XX" → byte, '+' stays '+'.
// out needs at least in.size() bytes (decoding never grows). Returns false on an invalid escape
// or too-small out; on success *decoded views the prefix of out that was written.
bool percent_decode_path(std::string_view in, std::span<char> out, std::string_view* decoded);

// Query-component decoding (Go url.QueryUnescape): like the path form but '+' → ' '.
bool query_unescape(std::string_view in, std::span<char> out, std::string_view* decoded);

}  // namespace ringside::http1
