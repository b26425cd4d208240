#include "tools/blocking_http/http_head.h"

namespace ringside::blocking_http {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool IsTokenChar(char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasControlChar(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
  }
  return false;
}

bool ParseStartLine(std::string_view line, ParsedHead* out) {
  if (line.empty() || HasControlChar(line)) return false;
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  out->token1 = line.substr(0, sp1);
  std::string_view rest = line.substr(sp1 + 1);
  const size_t sp2 = rest.find(' ');
  out->token2 = rest.substr(0, sp2);
  out->token3 = sp2 == std::string_view::npos ? std::string_view() : rest.substr(sp2 + 1);
  return !out->token2.empty();
}

}  // namespace

ParseResult ParseHead(std::string_view bytes, std::span<HeaderField> headers, ParsedHead* out) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return bytes.size() > kMaxHeadBytes ? ParseResult::kMalformed : ParseResult::kIncomplete;
  }
  if (end + 4 > kMaxHeadBytes) return ParseResult::kMalformed;
  *out = ParsedHead{};
  std::string_view head = bytes.substr(0, end + 2);  // every line, each ending in CRLF
  size_t eol = head.find(kCrlf);
  if (!ParseStartLine(head.substr(0, eol), out)) return ParseResult::kMalformed;
  head.remove_prefix(eol + 2);
  while (!head.empty()) {
    eol = head.find(kCrlf);
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return ParseResult::kMalformed;
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return ParseResult::kMalformed;  // also rejects obs-fold lines
    }
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (HasControlChar(value)) return ParseResult::kMalformed;
    if (out->header_count == headers.size()) return ParseResult::kTooManyHeaders;
    headers[out->header_count++] = HeaderField{name, value};
  }
  out->length = end + 4;
  return ParseResult::kComplete;
}

ParseResult ParseChunkSizeLine(std::string_view bytes, uint64_t* size, size_t* line_length) {
  const size_t eol = bytes.find(kCrlf);
  if (eol == std::string_view::npos) {
    return bytes.size() > 4096 ? ParseResult::kMalformed : ParseResult::kIncomplete;
  }
  std::string_view digits = bytes.substr(0, eol);
  digits = digits.substr(0, digits.find(';'));  // chunk extensions are ignored
  digits = TrimOws(digits);
  if (digits.empty() || digits.size() > 15) return ParseResult::kMalformed;
  uint64_t value = 0;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return ParseResult::kMalformed;
    value = value * 16 + static_cast<uint64_t>(d);
  }
  *size = value;
  *line_length = eol + 2;
  return ParseResult::kComplete;
}

bool ParseContentLength(std::string_view value, uint64_t* length) {
  if (value.empty() || value.size() > 18) return false;
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *length = n;
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (EqualsIgnoreCase(TrimOws(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace ringside::blocking_http
