#include "dataplane/http1/response_parser.h"

#include "dataplane/http1/char_class.h"
#include "dataplane/http1/head_scanner.h"
#include "dataplane/http1/number.h"

namespace ringside::http1 {
namespace {

constexpr uint64_t kMaxContentLength = static_cast<uint64_t>(INT64_MAX);

ParseStatus fail(ResponseHead* out, int status) {
  out->error_status = status;
  return ParseStatus::kError;
}

}  // namespace

ParseStatus parse_response_head(std::string_view buf, size_t max_head_bytes, bool request_was_head,
                                ResponseHead* out) {
  out->status = 0;
  out->reason = {};
  out->minor_version = 1;
  out->header_count = 0;
  out->head_size = 0;
  out->body_kind = BodyKind::kNone;
  out->content_length = 0;
  out->keep_alive = true;
  out->error_status = 0;

  // Fail fast on a peer that does not speak HTTP/1.x at all.
  static constexpr std::string_view kPrefix = "HTTP/";
  size_t check = buf.size() < kPrefix.size() ? buf.size() : kPrefix.size();
  if (buf.substr(0, check) != kPrefix.substr(0, check)) return fail(out, 400);

  size_t end;
  switch (detail::find_head_end(buf, 0, max_head_bytes, &end)) {
    case detail::HeadEnd::kNeedMore: return ParseStatus::kIncomplete;
    case detail::HeadEnd::kTooLarge: return fail(out, 431);
    case detail::HeadEnd::kFound: break;
  }

  // Status line: HTTP-version SP 3DIGIT [SP reason-phrase] (Go accepts a missing reason).
  size_t pos;
  bool bad_cr;
  std::string_view line = detail::next_line(buf, 0, &pos, &bad_cr);
  if (bad_cr || line.size() < 12 || line[8] != ' ') return fail(out, 400);
  int major, minor;
  if (detail::parse_http_version(line.substr(0, 8), &major, &minor) != 0) return fail(out, 400);
  if (major != 1) return fail(out, 505);
  out->minor_version = minor;
  uint64_t code;
  if (!parse_decimal_u64(line.substr(9, 3), &code) || code < 100) return fail(out, 400);
  out->status = static_cast<int>(code);
  if (line.size() > 12) {
    if (line[12] != ' ') return fail(out, 400);
    out->reason = line.substr(13);
    for (char ch : out->reason)
      if (!is_field_value_char(static_cast<uint8_t>(ch))) return fail(out, 400);
  }

  detail::FramingFacts f;
  int err = detail::parse_header_lines(buf, pos, end, out->headers, &out->header_count, &f);
  if (err != 0) return fail(out, err);

  bool http11 = minor >= 1;
  out->keep_alive = http11 ? !f.connection_close : (f.connection_keep_alive && !f.connection_close);

  bool bodiless = request_was_head || out->status < 200 || out->status == 204 || out->status == 304;
  if (bodiless) {
    out->body_kind = BodyKind::kNone;
  } else if (f.transfer_encoding_count > 0) {
    if (f.transfer_encoding_count > 1 || !f.transfer_encoding_chunked) return fail(out, 501);
    out->body_kind = BodyKind::kChunked;
    if (f.content_length_count > 0) out->keep_alive = false;  // RFC 9112 §6.3 item 3
  } else if (f.content_length_count > 0) {
    if (f.content_length_conflict) return fail(out, 400);
    uint64_t n;
    if (!parse_decimal_u64(f.content_length_value, &n) || n > kMaxContentLength)
      return fail(out, 400);
    out->content_length = n;
    out->body_kind = n > 0 ? BodyKind::kLength : BodyKind::kNone;
  } else {
    out->body_kind = BodyKind::kUntilClose;
    out->keep_alive = false;
  }

  out->head_size = end;
  return ParseStatus::kComplete;
}

}  // namespace ringside::http1
