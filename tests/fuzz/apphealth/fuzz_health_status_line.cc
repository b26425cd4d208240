// Fuzzes parse_status_line: never reads past the input, and its answer is consistent with the
// input (0 only without a complete first line, a code only for a line that starts with
// "HTTP/1." and has three digits at 9..11, and feeding more bytes never changes a final answer).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "controlplane/apphealth/status_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const int code = ringside::apphealth::parse_status_line(in);
  if (code == 0 && (in.find('\n') != std::string_view::npos || in.size() > 1024)) std::abort();
  if (code > 0) {
    if (code < 100 || code > 999 || in.substr(0, 7) != "HTTP/1.") std::abort();
    const std::string_view digits = in.substr(9, 3);
    if (digits[0] - '0' != code / 100 || digits[2] - '0' != code % 10) std::abort();
  }
  // A decided answer (code or -1) stays the same with any prefix of the input that still holds
  // the first line.
  const size_t eol = in.find('\n');
  if (code != 0 && eol != std::string_view::npos &&
      ringside::apphealth::parse_status_line(in.substr(0, eol + 1)) != code)
    std::abort();
  return 0;
}
