#include "dataplane/invoke/rpc_error_text.h"

namespace ringside::invoke {

std::string_view grpc_code_name(int code) {
  static constexpr std::string_view kNames[] = {
      "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
      "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
      "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"};
  if (code >= 0 && code <= 16) return kNames[code];
  return "Unknown";
}

}  // namespace ringside::invoke
