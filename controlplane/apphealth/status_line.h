#pragma once
// The status code at the start of an HTTP/1.x response, for the health probe (http_probe.cc).
// Own file with no dependencies so the fuzz build (tests/fuzz/apphealth) can take it alone.
#include <string_view>

namespace ringside::apphealth {

// "HTTP/1.x NNN ..." → NNN once the first line is complete (ends in '\n'); 0 = the line is not
// complete yet (more bytes needed); -1 = not an HTTP/1.x status line, or a first line longer
// than 1 KiB.
int parse_status_line(std::string_view head);

}  // namespace ringside::apphealth
