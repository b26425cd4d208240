#pragma once
// HTTP/1.1 request head parser (RFC 9112), allocation-free: every view points into the caller's
// receive buffer. Call it again with the grown buffer after kIncomplete; it re-scans from the
// start (heads are small, and this keeps the parser stateless).
//
// Decisions that differ from "accept anything" (each answered with error_status):
//   400  malformed line, bad token, stray CR, obs-fold, bad %-escape in the path, missing or
//        repeated Host on HTTP/1.1, Content-Length and Transfer-Encoding together (smuggling),
//        differing Content-Length values, Content-Length not a decimal <= 2^63-1,
//        Transfer-Encoding on an HTTP/1.0 request
//   417  an Expect value other than 100-continue (as Go's server)
//   431  head longer than max_head_bytes, or more than kMaxHeaders fields
//   501  Transfer-Encoding other than exactly one "chunked" (as Go's server)
//   505  HTTP major version other than 1
// Bare LF line endings are accepted (as Go's net/http); see head_scanner.h.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http1/message.h"

namespace ringside::http1 {

struct RequestHead {
  std::string_view method;       // as sent (case-sensitive token)
  std::string_view target;       // request-target as sent
  std::string_view path;         // raw path of target (before '?'), still %-encoded; "" for
                                 // authority-form and absolute-form without a path; "*" for OPTIONS *
  std::string_view query;        // raw query without '?', empty if none
  int minor_version = 1;         // the x of HTTP/1.x
  Header headers[kMaxHeaders];   // header fields in arrival order
  size_t header_count = 0;       // valid entries in headers
  size_t head_size = 0;          // bytes of (skipped empty lines +) request line + headers + final CRLF
  BodyKind body_kind = BodyKind::kNone;  // kNone, kLength or kChunked (never kUntilClose)
  uint64_t content_length = 0;   // body bytes when body_kind == kLength
  bool keep_alive = true;        // 1.1: unless "Connection: close"; 1.0: only with "keep-alive"
  bool expect_continue = false;  // 1.1 request with a body asked for "100 Continue" first
  int error_status = 0;          // when kError: 400, 417, 431, 501 or 505

  // First header named lower_name (lower case), matched case-insensitively; nullptr if absent.
  const Header* find(std::string_view lower_name) const {
    return find_header(headers, header_count, lower_name);
  }
};

// buf = all bytes received so far for this request, starting at its first byte (bytes after the
// head, such as body or a pipelined request, are ignored). On kComplete the body starts at
// buf[out->head_size].
ParseStatus parse_request_head(std::string_view buf, size_t max_head_bytes, RequestHead* out);

}  // namespace ringside::http1
