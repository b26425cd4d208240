#pragma once
// Lexical path cleaning with Go's path.Clean semantics, into caller storage:
//   1. runs of '/' become one '/'          3. "x/.." pairs are removed
//   2. "." elements are removed            4. ".." at the start of a rooted path is removed
// An empty result becomes "." ("/" for a rooted path). Nothing is decoded here.
#include <cstddef>
#include <span>
#include <string_view>

namespace ringside::http1 {

// Go path.Clean(in). out needs max(in.size(), 1) bytes; returns the cleaned view into out, or an
// empty view (never a valid result) if out is too small.
std::string_view path_clean(std::string_view in, std::span<char> out);

// Dapr's cleanPath: path.Clean, then a trailing '/' of the input is kept unless the result is "/".
// out needs in.size() + 1 bytes.
std::string_view path_clean_keep_trailing_slash(std::string_view in, std::span<char> out);

// Go path.Clean("/" + in) without building the concatenation: the result always starts with '/'.
// out needs in.size() + 1 bytes.
std::string_view path_clean_rooted(std::string_view in, std::span<char> out);

}  // namespace ringside::http1
