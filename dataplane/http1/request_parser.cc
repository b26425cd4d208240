#include "dataplane/http1/request_parser.h"

#include "dataplane/http1/char_class.h"
#include "dataplane/http1/head_scanner.h"
#include "dataplane/http1/number.h"
#include "dataplane/http1/percent_decode.h"

namespace ringside::http1 {
namespace {

// Content-Length must fit Go's int64.
constexpr uint64_t kMaxContentLength = static_cast<uint64_t>(INT64_MAX);

ParseStatus fail(RequestHead* out, int status) {
  out->error_status = status;
  return ParseStatus::kError;
}

// True if the URI scheme syntax ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) is followed by ':'.
bool split_scheme(std::string_view target, size_t* colon) {
  if (target.empty() || !((target[0] | 0x20) >= 'a' && (target[0] | 0x20) <= 'z')) return false;
  for (size_t i = 1; i < target.size(); ++i) {
    char c = target[i];
    if (c == ':') {
      *colon = i;
      return true;
    }
    bool ok = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return false;
}

// Splits the request-target into path and query the way Go's url.ParseRequestURI does
// (no fragment split: a '#' stays in the path). Returns false for an unusable target.
bool split_target(std::string_view method, std::string_view target, RequestHead* out) {
  std::string_view rest;
  if (target[0] == '/') {
    rest = target;
  } else if (target == "*") {
    out->path = target;
    return true;
  } else if (method == "CONNECT") {
    out->path = {};  // authority-form: host:port only
    return true;
  } else {
    size_t colon;
    if (!split_scheme(target, &colon)) return false;
    rest = target.substr(colon + 1);
    if (rest.substr(0, 2) == "//") {
      rest.remove_prefix(2);
      size_t slash = rest.find_first_of("/?");
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    } else if (rest.empty() || rest[0] != '/') {
      rest = {};  // opaque URI: no path
    }
  }
  size_t q = rest.find('?');
  if (q == std::string_view::npos) {
    out->path = rest;
  } else {
    out->path = rest.substr(0, q);
    out->query = rest.substr(q + 1);
  }
  return true;
}

}  // namespace

ParseStatus parse_request_head(std::string_view buf, size_t max_head_bytes, RequestHead* out) {
  out->method = out->target = out->path = out->query = {};
  out->minor_version = 1;
  out->header_count = 0;
  out->head_size = 0;
  out->body_kind = BodyKind::kNone;
  out->content_length = 0;
  out->keep_alive = true;
  out->expect_continue = false;
  out->error_status = 0;

  bool bad_cr;
  size_t start = detail::skip_leading_empty_lines(buf, &bad_cr);
  if (bad_cr) return fail(out, 400);

  // Reject a non-token method as soon as it arrives (e.g. a TLS ClientHello on a plain port).
  for (size_t i = start; i < buf.size() && buf[i] != ' '; ++i)
    if (!is_tchar(static_cast<uint8_t>(buf[i]))) return fail(out, 400);

  size_t end;
  switch (detail::find_head_end(buf, start, max_head_bytes, &end)) {
    case detail::HeadEnd::kNeedMore: return ParseStatus::kIncomplete;
    case detail::HeadEnd::kTooLarge: return fail(out, 431);
    case detail::HeadEnd::kFound: break;
  }

  // Request line: method SP request-target SP HTTP-version, single spaces (as Go).
  size_t pos;
  std::string_view line = detail::next_line(buf, start, &pos, &bad_cr);
  if (bad_cr) return fail(out, 400);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return fail(out, 400);
  out->method = line.substr(0, sp1);
  size_t tstart = sp1 + 1;
  size_t sp2 = tstart;
  while (sp2 < line.size() && is_target_char(static_cast<uint8_t>(line[sp2]))) ++sp2;
  if (sp2 == tstart || sp2 == line.size() || line[sp2] != ' ') return fail(out, 400);
  out->target = line.substr(tstart, sp2 - tstart);
  int major, minor;
  if (detail::parse_http_version(line.substr(sp2 + 1), &major, &minor) != 0) return fail(out, 400);
  if (major != 1) return fail(out, 505);
  out->minor_version = minor;
  if (!split_target(out->method, out->target, out)) return fail(out, 400);
  // Go rejects a path with a broken %-escape while parsing the URL.
  if (!has_valid_percent_escapes(out->path)) return fail(out, 400);

  detail::FramingFacts f;
  int err = detail::parse_header_lines(buf, pos, end, out->headers, &out->header_count, &f);
  if (err != 0) return fail(out, err);

  bool http11 = minor >= 1;
  if (http11 && f.host_count == 0) return fail(out, 400);
  if (f.host_count > 1) return fail(out, 400);

  if (f.transfer_encoding_count > 0) {
    // RFC 9112 §6.1: TE with CL may be a smuggling attempt; TE in HTTP/1.0 means broken framing.
    if (f.content_length_count > 0 || !http11) return fail(out, 400);
    if (f.transfer_encoding_count > 1 || !f.transfer_encoding_chunked) return fail(out, 501);
    out->body_kind = BodyKind::kChunked;
  } else if (f.content_length_count > 0) {
    if (f.content_length_conflict) return fail(out, 400);
    uint64_t n;
    if (!parse_decimal_u64(f.content_length_value, &n) || n > kMaxContentLength)
      return fail(out, 400);
    out->content_length = n;
    out->body_kind = n > 0 ? BodyKind::kLength : BodyKind::kNone;
  }

  out->keep_alive = http11 ? !f.connection_close : (f.connection_keep_alive && !f.connection_close);

  // Go's server: 100-continue matters only for HTTP/1.1 with a body; any other Expect → 417.
  if (f.expect_count > 0) {
    if (!f.expect_100_continue) return fail(out, 417);
    out->expect_continue = http11 && out->body_kind != BodyKind::kNone;
  }

  out->head_size = end;
  return ParseStatus::kComplete;
}

}  // namespace ringside::http1
