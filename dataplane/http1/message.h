#pragma once
// Types shared by the HTTP/1.1 request and response parsers.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringside::http1 {

// One header field; both views point into the caller's receive buffer.
struct Header {
  std::string_view name;   // field name exactly as received (case preserved)
  std::string_view value;  // field value with leading/trailing whitespace removed
};

// Header fields kept per message; more is answered with 431.
inline constexpr size_t kMaxHeaders = 128;

// Outcome of one parse call.
enum class ParseStatus { kIncomplete, kComplete, kError };

// How the body that follows a head is delimited.
enum class BodyKind {
  kNone,       // no body bytes follow the head
  kLength,     // exactly content_length bytes follow
  kChunked,    // Transfer-Encoding: chunked; decode with ChunkedDecoder
  kUntilClose  // responses only: body runs until the peer closes the connection
};

// First header named lower_name (given in lower case; matched case-insensitively), or nullptr.
const Header* find_header(const Header* headers, size_t count, std::string_view lower_name);

}  // namespace ringside::http1
