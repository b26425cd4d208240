// Allocation-free parsing of an HTTP/1.1 message head and of chunked-body size lines.
// Shared by the example app, the load generator and the end-to-end test client: all of them
// speak HTTP/1.1 over blocking sockets, none of them is on the sidecar's request path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ringside::blocking_http {

// One header line, as views into the caller's buffer.
struct HeaderField {
  std::string_view name;   // header name exactly as received (case kept)
  std::string_view value;  // value with surrounding optional whitespace removed
};

// The start line and header count of a parsed head, as views into the caller's buffer.
struct ParsedHead {
  std::string_view token1;  // request: method; response: HTTP version
  std::string_view token2;  // request: target (path?query); response: status code
  std::string_view token3;  // request: HTTP version; response: reason phrase (may be empty)
  size_t header_count = 0;  // headers written to the caller's storage
  size_t length = 0;        // bytes of the head including the terminating blank line
};

enum class ParseResult {
  kComplete,        // a full head (or chunk-size line) was parsed
  kIncomplete,      // more bytes are needed
  kMalformed,       // the bytes can never form a valid head
  kTooManyHeaders,  // the head is valid so far but has more headers than storage
};

// Largest head accepted; a longer head without its blank line is malformed.
inline constexpr size_t kMaxHeadBytes = 64 * 1024;

// Parses the head at the start of `bytes` into `out`, header lines into `headers`.
ParseResult ParseHead(std::string_view bytes, std::span<HeaderField> headers, ParsedHead* out);

// Parses a chunk-size line ("1a;ext=x\r\n") at the start of `bytes`.
ParseResult ParseChunkSizeLine(std::string_view bytes, uint64_t* size, size_t* line_length);

// Parses a Content-Length value (decimal digits only, no sign, no overflow).
bool ParseContentLength(std::string_view value, uint64_t* length);

// Case-insensitive ASCII comparison of header names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// True if the comma-separated header value contains `token` (case-insensitive), e.g.
// HasToken("keep-alive, Upgrade", "upgrade").
bool HasToken(std::string_view list, std::string_view token);

}  // namespace ringside::blocking_http
