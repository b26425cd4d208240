// The calls ringside-grpc-load makes, one per --mode, each checking its answer.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "tools/grpc_load/call_driver.h"
#include "tools/grpc_load/grpc_load_options.h"

namespace ringside::grpc_load {

// A caller for `options.mode` on `channel`, used by one thread only:
//  - unary: Echo/Unary with `body_size` payload bytes; the answer must echo them.
//  - invoke-service: Dapr/InvokeService{id: app_id, method "echo", POST, body_size bytes};
//    the answer's data must echo them (HTTP echo app or gRPC app's OnInvoke alike).
//  - client-stream: Echo/ClientStream of `total_bytes` in `message_size` messages, then
//    half-close; the app must report every byte and message.
// With `app_id` set, unary and client-stream calls carry dapr-app-id metadata (proxying).
CallFn MakeLoadCall(const GrpcLoadOptions& options, std::shared_ptr<grpc::Channel> channel);

}  // namespace ringside::grpc_load
