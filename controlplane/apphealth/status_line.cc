#include "controlplane/apphealth/status_line.h"

namespace ringside::apphealth {

int parse_status_line(std::string_view head) {
  constexpr size_t kMaxLine = 1024;  // a real status line is short; do not buffer an endless one
  const size_t eol = head.find('\n');
  if (eol == std::string_view::npos) return head.size() > kMaxLine ? -1 : 0;
  const std::string_view line = head.substr(0, eol);
  // "HTTP/1.1 200" at least: version, one space, three digits.
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return -1;
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return -1;
    code = code * 10 + (line[i] - '0');
  }
  // The code ends the line or is followed by the reason phrase.
  if (line.size() > 12 && line[12] != ' ' && line[12] != '\r') return -1;
  return code < 100 ? -1 : code;
}

}  // namespace ringside::apphealth
