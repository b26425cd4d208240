#pragma once
// Pieces shared by the request and response head parsers: finding where a head ends, splitting
// it into header fields, and summarising the headers that decide framing and connection reuse.
//
// Line endings: a line ends at LF; one CR directly before it is part of the terminator. A bare
// LF is accepted as Go's net/http does (we re-serialise every message, so no smuggling gap opens
// between us and the next hop); a CR anywhere else is an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http1/message.h"

namespace ringside::http1::detail {

// Where the head ends in buf.
enum class HeadEnd { kFound, kNeedMore, kTooLarge };

// Skips empty lines (CRLF or LF) that RFC 9112 §2.2 lets a server ignore before a request.
// Returns the offset of the first byte that is not part of such a line. *bad_cr = a CR that is
// not followed by LF was found.
size_t skip_leading_empty_lines(std::string_view buf, bool* bad_cr);

// Finds the empty line that ends a head whose first line starts at `start`.
// On kFound, *end = offset just past that empty line. kTooLarge once the head provably needs more
// than max_bytes (counted from offset 0).
HeadEnd find_head_end(std::string_view buf, size_t start, size_t max_bytes, size_t* end);

// Returns the line at `pos` (without its terminator) and sets *next to the following line.
// Precondition: an LF exists at or after pos. *bad_cr when a CR appears other than before LF.
std::string_view next_line(std::string_view buf, size_t pos, size_t* next, bool* bad_cr);

// Header facts that change how a message is framed or whether the connection is reused.
struct FramingFacts {
  int content_length_count = 0;           // number of Content-Length fields
  std::string_view content_length_value;  // value of the first Content-Length field
  bool content_length_conflict = false;   // a later Content-Length differs from the first
  int transfer_encoding_count = 0;        // number of Transfer-Encoding fields
  bool transfer_encoding_chunked = false; // the (single) Transfer-Encoding value is "chunked"
  bool connection_close = false;          // a Connection field lists "close"
  bool connection_keep_alive = false;     // a Connection field lists "keep-alive"
  int host_count = 0;                     // number of Host fields
  int expect_count = 0;                   // number of Expect fields
  bool expect_100_continue = false;       // the first Expect value is "100-continue"
};

// Parses the header lines in [pos, head_end) (head_end just past the final empty line) into
// headers[]. Returns 0 or an error status: 400 malformed (obs-fold, bad name/value, stray CR),
// 431 more than kMaxHeaders fields.
int parse_header_lines(std::string_view buf, size_t pos, size_t head_end, Header* headers,
                       size_t* count, FramingFacts* facts);

// Parses "HTTP/d.d". Returns 0 and the digits, or 400 (malformed).
int parse_http_version(std::string_view v, int* major, int* minor);

}  // namespace ringside::http1::detail
