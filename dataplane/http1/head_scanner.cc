#include "dataplane/http1/head_scanner.h"

#include <cstring>

#include "dataplane/http1/char_class.h"

namespace ringside::http1 {

const Header* find_header(const Header* headers, size_t count, std::string_view lower_name) {
  for (size_t i = 0; i < count; ++i)
    if (iequals(headers[i].name, lower_name)) return &headers[i];
  return nullptr;
}

namespace detail {

size_t skip_leading_empty_lines(std::string_view buf, bool* bad_cr) {
  size_t pos = 0;
  *bad_cr = false;
  while (pos < buf.size()) {
    if (buf[pos] == '\n') {
      ++pos;
    } else if (buf[pos] == '\r') {
      if (pos + 1 == buf.size()) return pos;  // wait for the LF
      if (buf[pos + 1] != '\n') {
        *bad_cr = true;
        return pos;
      }
      pos += 2;
    } else {
      break;
    }
  }
  return pos;
}

HeadEnd find_head_end(std::string_view buf, size_t start, size_t max_bytes, size_t* end) {
  // Only the first max_bytes (+2 to see a terminator straddling the limit) can matter.
  size_t limit = buf.size() < max_bytes + 2 ? buf.size() : max_bytes + 2;
  const char* base = buf.data();
  size_t pos = start;
  while (pos < limit) {
    const void* hit = std::memchr(base + pos, '\n', limit - pos);
    if (!hit) break;
    size_t lf = static_cast<size_t>(static_cast<const char*>(hit) - base);
    size_t after = lf + 1;
    if (after < buf.size() && buf[after] == '\n') {
      *end = after + 1;
    } else if (after + 1 < buf.size() && buf[after] == '\r' && buf[after + 1] == '\n') {
      *end = after + 2;
    } else {
      pos = after;
      continue;
    }
    return *end > max_bytes ? HeadEnd::kTooLarge : HeadEnd::kFound;
  }
  return buf.size() >= max_bytes ? HeadEnd::kTooLarge : HeadEnd::kNeedMore;
}

std::string_view next_line(std::string_view buf, size_t pos, size_t* next, bool* bad_cr) {
  const char* base = buf.data();
  const void* hit = std::memchr(base + pos, '\n', buf.size() - pos);
  size_t lf = static_cast<size_t>(static_cast<const char*>(hit) - base);
  *next = lf + 1;
  size_t stop = lf;
  if (stop > pos && buf[stop - 1] == '\r') --stop;
  std::string_view line = buf.substr(pos, stop - pos);
  *bad_cr = std::memchr(line.data(), '\r', line.size()) != nullptr;
  return line;
}

namespace {

// Records the framing-relevant meaning of one header field.
void note_framing(std::string_view name, std::string_view value, FramingFacts* f) {
  switch (name.size()) {
    case 4:
      if (iequals(name, "host")) ++f->host_count;
      return;
    case 6:
      if (iequals(name, "expect")) {
        if (f->expect_count++ == 0) f->expect_100_continue = iequals(value, "100-continue");
      }
      return;
    case 10:
      if (iequals(name, "connection")) {
        // Comma-separated tokens, e.g. "keep-alive, Upgrade".
        while (!value.empty()) {
          size_t comma = value.find(',');
          std::string_view tok = trim_ows(value.substr(0, comma));
          if (iequals(tok, "close")) f->connection_close = true;
          if (iequals(tok, "keep-alive")) f->connection_keep_alive = true;
          if (comma == std::string_view::npos) break;
          value.remove_prefix(comma + 1);
        }
      }
      return;
    case 14:
      if (iequals(name, "content-length")) {
        if (f->content_length_count++ == 0) {
          f->content_length_value = value;
        } else if (value != f->content_length_value) {
          f->content_length_conflict = true;
        }
      }
      return;
    case 17:
      if (iequals(name, "transfer-encoding")) {
        // Like Go: exactly one field whose whole value is "chunked"; anything else is unsupported.
        if (f->transfer_encoding_count++ == 0) f->transfer_encoding_chunked = iequals(value, "chunked");
      }
      return;
    default:
      return;
  }
}

}  // namespace

int parse_header_lines(std::string_view buf, size_t pos, size_t head_end, Header* headers,
                       size_t* count, FramingFacts* facts) {
  *count = 0;
  while (pos < head_end) {
    size_t next;
    bool bad_cr;
    std::string_view line = next_line(buf, pos, &next, &bad_cr);
    pos = next;
    if (line.empty()) break;  // the final empty line
    if (bad_cr) return 400;
    // obs-fold (a continuation line) is rejected as RFC 9112 §5.2 allows.
    if (is_ows(static_cast<uint8_t>(line[0]))) return 400;
    size_t colon = 0;
    while (colon < line.size() && is_tchar(static_cast<uint8_t>(line[colon]))) ++colon;
    // Empty name, whitespace before the colon, or any non-token byte: 400.
    if (colon == 0 || colon == line.size() || line[colon] != ':') return 400;
    std::string_view value = trim_ows(line.substr(colon + 1));
    for (char ch : value)
      if (!is_field_value_char(static_cast<uint8_t>(ch))) return 400;
    if (*count == kMaxHeaders) return 431;
    Header& h = headers[(*count)++];
    h.name = line.substr(0, colon);
    h.value = value;
    note_framing(h.name, h.value, facts);
  }
  return 0;
}

int parse_http_version(std::string_view v, int* major, int* minor) {
  // Exactly "HTTP/" DIGIT "." DIGIT, as Go's ParseHTTPVersion.
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return 400;
  if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return 400;
  *major = v[5] - '0';
  *minor = v[7] - '0';
  return 0;
}

}  // namespace detail
}  // namespace ringside::http1
