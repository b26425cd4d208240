#pragma once
// Go-style texts of gRPC errors, as daprd embeds them in ERR_DIRECT_INVOKE messages:
// "rpc error: code = Unavailable desc = connection refused".
#include <string_view>

namespace ringside::invoke {

// "OK", "Canceled", "Unknown", "InvalidArgument", ... as grpc-go's codes.Code.String().
std::string_view grpc_code_name(int code);

}  // namespace ringside::invoke
