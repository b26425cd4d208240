#pragma once
// Flow-control constants of the streaming halves of GrpcServerConnection and
// GrpcClientConnection. They belong to the HTTP/2 stream queue both share (see
// dataplane/http2/stream_queue.h for how they bound memory); the names stay here for gRPC users.
#include "dataplane/http2/stream_queue.h"

namespace ringside::grpc {

using http2::kStreamHardQueueLimit;
using http2::kStreamHighWatermark;
using http2::kStreamLowWatermark;

}  // namespace ringside::grpc
