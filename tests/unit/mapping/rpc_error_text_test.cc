// grpc_code_name: the names grpc-go's codes.Code.String() prints, as daprd embeds them in
// "rpc error: code = <Name> desc = …" messages.
#include "dataplane/mapping/rpc_error_text.h"

#include <gtest/gtest.h>

namespace ringside::invoke {
namespace {

TEST(RpcErrorText, NamesMatchGrpcGo) {
  const char* expected[] = {"OK",          "Canceled",          "Unknown",
                            "InvalidArgument", "DeadlineExceeded", "NotFound",
                            "AlreadyExists", "PermissionDenied", "ResourceExhausted",
                            "FailedPrecondition", "Aborted",     "OutOfRange",
                            "Unimplemented", "Internal",         "Unavailable",
                            "DataLoss",    "Unauthenticated"};
  for (int code = 0; code <= 16; ++code) EXPECT_EQ(grpc_code_name(code), expected[code]) << code;
}

TEST(RpcErrorText, OutOfRangeCodesAreUnknown) {
  EXPECT_EQ(grpc_code_name(-1), "Unknown");
  EXPECT_EQ(grpc_code_name(17), "Unknown");
  EXPECT_EQ(grpc_code_name(1 << 30), "Unknown");
}

}  // namespace
}  // namespace ringside::invoke
