// ringside-sync's log lines on stderr: "time level message", filtered by --log-level.
#pragma once

#include <string_view>

namespace ringside::sync {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_log_level(std::string_view level);  // debug|info|warn|error (checked by the flag parser)
void log(LogLevel level, std::string_view message);

}  // namespace ringside::sync
