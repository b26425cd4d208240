#include "controlplane/sync/sync_log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ringside::sync {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};  // lowest level printed
std::mutex g_write;                                            // one line at a time

const char* name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "?";
}

}  // namespace

void set_log_level(std::string_view level) {
  LogLevel l = LogLevel::kInfo;
  if (level == "debug") l = LogLevel::kDebug;
  if (level == "warn") l = LogLevel::kWarn;
  if (level == "error") l = LogLevel::kError;
  g_level.store(static_cast<int>(l));
}

void log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) < g_level.load()) return;
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::lock_guard<std::mutex> lock(g_write);
  std::fprintf(stderr, "%s %s ringside-sync: %.*s\n", when.c_str(), name(level), static_cast<int>(message.size()),
               message.data());
  std::fflush(stderr);
}

}  // namespace ringside::sync
