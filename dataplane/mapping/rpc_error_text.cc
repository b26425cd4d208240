#include "dataplane/mapping/rpc_error_text.h"

#include <algorithm>
#include <cstdio>

namespace ringside::invoke {

std::string_view grpc_code_name(int code) {
  static constexpr std::string_view kNames[] = {
      "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
      "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
      "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"};
  if (code >= 0 && code <= 16) return kNames[code];
  return "Unknown";
}

std::string_view rpc_error_text(int code, std::string_view message, std::span<char> buf) {
  std::string_view name = grpc_code_name(code);
  int n = snprintf(buf.data(), buf.size(), "rpc error: code = %.*s desc = %.*s",
                   static_cast<int>(name.size()), name.data(), static_cast<int>(message.size()),
                   message.data());
  return std::string_view(buf.data(), n > 0 ? std::min<size_t>(static_cast<size_t>(n), buf.size() - 1) : 0);
}

}  // namespace ringside::invoke
