#pragma once
// Go-style texts of gRPC errors, as daprd embeds them in ERR_DIRECT_INVOKE messages:
// "rpc error: code = Unavailable desc = connection refused".
#include <span>
#include <string_view>

namespace ringside::invoke {

// "OK", "Canceled", "Unknown", "InvalidArgument", ... as grpc-go's codes.Code.String().
std::string_view grpc_code_name(int code);

// "rpc error: code = <name> desc = <message>" in buf (truncated to fit).
std::string_view rpc_error_text(int code, std::string_view message, std::span<char> buf);

}  // namespace ringside::invoke
