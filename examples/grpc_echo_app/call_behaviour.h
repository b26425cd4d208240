// Pieces every handler of ringside-grpc-echo-app shares: waiting that notices cancellation,
// the metadata and status a request asks for, and ending a call.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "examples/grpc_echo_app/app_stats.h"
#include "ringside/test/v1/echo.pb.h"

namespace ringside::grpc_echo_app {

// Sleeps `ms` (at most 60 s) in short slices; false as soon as the call is cancelled.
bool SleepUnlessCancelled(grpc::ServerContext* context, int ms);

// Adds the request's response_headers (before the first response) and response_trailers.
void AddRequestedMetadata(grpc::ServerContext* context, const ringside::test::v1::EchoRequest& request);

// The status a request asks for: its EchoStatus with the details in grpc-status-details-bin,
// or OK when it asks for none.
grpc::Status RequestedStatus(const ringside::test::v1::EchoRequest& request);

// An error status `code` with `message` and the details serialized as an RpcStatus, the way
// google.rpc.Status travels in grpc-status-details-bin.
grpc::Status StatusWithDetails(int code, const std::string& message,
                               const google::protobuf::RepeatedPtrField<google::protobuf::Any>& details);

// Ends a call: a cancelled call (client cancel, RST_STREAM, deadline) is counted in `stats` and
// answered CANCELLED (the client no longer listens); otherwise `status` is returned.
grpc::Status EndCall(grpc::ServerContext* context, AppStats* stats, grpc::Status status);

}  // namespace ringside::grpc_echo_app
