#pragma once
// Go's textproto.CanonicalMIMEHeaderKey: "x-my-header" → "X-My-Header". Dapr puts HTTP request
// headers into invocation metadata under this form (spec §5.1).
#include <span>
#include <string_view>

namespace ringside::http1 {

// Returns the canonical form of key. When key is already canonical, or contains a byte that is
// not a token character (Go then leaves it unchanged), key itself is returned (no copy).
// Otherwise the canonical form is written to out (needs key.size() bytes) and a view of it is
// returned; if out is too small, key is returned unchanged.
std::string_view canonical_header_key(std::string_view key, std::span<char> out);

}  // namespace ringside::http1
