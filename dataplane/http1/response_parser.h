#pragma once
// HTTP/1.1 response head parser (RFC 9112), allocation-free; views point into the caller's buffer.
// Used on the app channel (responses from the local app). Stateless: re-scans from the start.
//
// Interim responses (1xx) come back as kComplete with body_kind kNone so the caller can drop
// head_size bytes and parse again; 101 Switching Protocols is reported the same way and is the
// caller's to refuse.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http1/message.h"

namespace ringside::http1 {

struct ResponseHead {
  int status = 0;                // status code, 100..999
  std::string_view reason;       // reason phrase as sent (may be empty)
  int minor_version = 1;         // the x of HTTP/1.x
  Header headers[kMaxHeaders];   // header fields in arrival order
  size_t header_count = 0;       // valid entries in headers
  size_t head_size = 0;          // bytes of status line + headers + final CRLF
  BodyKind body_kind = BodyKind::kNone;  // how the body is delimited
  uint64_t content_length = 0;   // body bytes when body_kind == kLength
  bool keep_alive = true;        // connection reusable after this response
  int error_status = 0;          // when kError: why, as an HTTP status (400 malformed, 431 too
                                 // large, 501 unsupported Transfer-Encoding, 505 version)

  // First header named lower_name (lower case), matched case-insensitively; nullptr if absent.
  const Header* find(std::string_view lower_name) const {
    return find_header(headers, header_count, lower_name);
  }
};

// buf = all bytes received so far for this response. request_was_head: the request was HEAD, so
// no body follows whatever the headers say (same for 1xx, 204 and 304).
// Framing: Transfer-Encoding "chunked" wins over Content-Length (then keep_alive = false, since
// the peer framed ambiguously); no length and no chunking → kUntilClose with keep_alive = false.
ParseStatus parse_response_head(std::string_view buf, size_t max_head_bytes, bool request_was_head,
                                ResponseHead* out);

// The bytes head was parsed from moved from old_base to new_base (the buffer grew): point its
// views at the new copy, instead of parsing the head a second time.
inline void rebase_response_head(ResponseHead* head, const char* old_base, const char* new_base) {
  if (old_base == new_base) return;
  auto move = [&](std::string_view& v) {
    if (v.data() >= old_base && v.data() <= old_base + head->head_size) {
      v = std::string_view(new_base + (v.data() - old_base), v.size());
    }
  };
  move(head->reason);
  for (size_t i = 0; i < head->header_count; ++i) {
    move(head->headers[i].name);
    move(head->headers[i].value);
  }
}

}  // namespace ringside::http1
