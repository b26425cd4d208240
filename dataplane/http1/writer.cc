#include "dataplane/http1/writer.h"

#include <cstring>

#include "dataplane/http1/char_class.h"
#include "dataplane/http1/number.h"
#include "dataplane/http1/reason_phrase.h"

namespace ringside::http1 {
namespace {

// Copies s at p and returns the position after it.
uint8_t* put(uint8_t* p, std::string_view s) {
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

bool append_status_line(mem::Buffer& buf, int status) {
  if (status < 0) status = 0;
  char digits[kMaxDecimalDigits];
  std::string_view code(digits, format_decimal(static_cast<uint64_t>(status), digits));
  std::string_view reason = reason_phrase(status);
  static constexpr std::string_view kUnknown = "status code ";
  size_t n = 9 + code.size() + 1 + (reason.empty() ? kUnknown.size() + code.size() : reason.size()) + 2;
  if (!buf.reserve(n)) return false;
  uint8_t* p = buf.tail();
  p = put(p, "HTTP/1.1 ");
  p = put(p, code);
  p = put(p, " ");
  if (reason.empty()) {
    p = put(p, kUnknown);
    p = put(p, code);
  } else {
    p = put(p, reason);
  }
  put(p, "\r\n");
  buf.commit(n);
  return true;
}

bool append_request_line(mem::Buffer& buf, std::string_view method, std::string_view target) {
  size_t n = method.size() + 1 + target.size() + 11;
  if (!buf.reserve(n)) return false;
  uint8_t* p = buf.tail();
  p = put(p, method);
  p = put(p, " ");
  p = put(p, target);
  put(p, " HTTP/1.1\r\n");
  buf.commit(n);
  return true;
}

bool append_request_line(mem::Buffer& buf, std::string_view method, std::string_view path,
                         std::string_view query) {
  size_t n = method.size() + 1 + path.size() + (query.empty() ? 0 : 1 + query.size()) + 11;
  if (!buf.reserve(n)) return false;
  uint8_t* p = buf.tail();
  p = put(p, method);
  p = put(p, " ");
  p = put(p, path);
  if (!query.empty()) {
    p = put(p, "?");
    p = put(p, query);
  }
  put(p, " HTTP/1.1\r\n");
  buf.commit(n);
  return true;
}

bool is_valid_header_field(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char ch : name)
    if (!is_tchar(static_cast<uint8_t>(ch))) return false;
  for (char ch : value)
    if (!is_field_value_char(static_cast<uint8_t>(ch))) return false;
  return true;
}

AppendHeader append_header(mem::Buffer& buf, std::string_view name, std::string_view value) {
  if (!is_valid_header_field(name, value)) return AppendHeader::kRejected;
  size_t n = name.size() + 2 + value.size() + 2;
  if (!buf.reserve(n)) return AppendHeader::kNoMemory;
  uint8_t* p = buf.tail();
  p = put(p, name);
  p = put(p, ": ");
  p = put(p, value);
  put(p, "\r\n");
  buf.commit(n);
  return AppendHeader::kOk;
}

bool append_content_length(mem::Buffer& buf, uint64_t n) {
  char digits[kMaxDecimalDigits];
  std::string_view v(digits, format_decimal(n, digits));
  return append_header(buf, "Content-Length", v) == AppendHeader::kOk;
}

bool append_end_of_head(mem::Buffer& buf) { return buf.append("\r\n"); }

bool append_chunk_header(mem::Buffer& buf, uint64_t size) {
  char hex[kMaxHexDigits + 2];
  size_t n = format_hex(size, hex);
  hex[n++] = '\r';
  hex[n++] = '\n';
  return buf.append(hex, n);
}

bool append_chunk_trailer(mem::Buffer& buf) { return buf.append("\r\n"); }

bool append_chunk(mem::Buffer& buf, std::span<const uint8_t> payload) {
  if (payload.empty()) return true;
  char hex[kMaxHexDigits];
  size_t hn = format_hex(payload.size(), hex);
  size_t n = hn + 2 + payload.size() + 2;
  if (!buf.reserve(n)) return false;
  uint8_t* p = buf.tail();
  p = put(p, std::string_view(hex, hn));
  p = put(p, "\r\n");
  std::memcpy(p, payload.data(), payload.size());
  p += payload.size();
  put(p, "\r\n");
  buf.commit(n);
  return true;
}

bool append_last_chunk(mem::Buffer& buf) { return buf.append("0\r\n\r\n"); }

}  // namespace ringside::http1
