// Command line of ringside-grpc-load.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ringside::grpc_load {

// Which call each request makes.
enum class CallMode {
  kUnary,          // ringside.test.v1.Echo/Unary (an app directly, or proxied with dapr-app-id)
  kInvokeService,  // dapr.proto.runtime.v1.Dapr/InvokeService on a sidecar's gRPC API
  kClientStream,   // ringside.test.v1.Echo/ClientStream, --total-bytes per call
};

struct GrpcLoadOptions {
  std::string target;                 // --target: "127.0.0.1:<port>" (as given; loopback only)
  uint16_t port = 0;                  // the port of --target
  CallMode mode = CallMode::kUnary;   // --mode unary|invoke-service|client-stream
  std::string app_id;                 // --app-id: dapr-app-id metadata, or InvokeService's id
  uint64_t requests = 1000;           // -n: calls over all channels (client-stream: 5)
  uint32_t channels = 1;              // -c: channels, one thread and one connection each
  uint64_t body_size = 1024;          // --body-size: payload bytes of each unary request
  std::chrono::milliseconds timeout{60'000};  // --timeout <seconds>: bound on the whole run
  uint64_t total_bytes = 64ull << 20;  // --total-bytes: payload bytes of one client-stream call
  uint64_t message_size = 64ull << 10;  // --message-size: payload bytes per stream message
};

// Parses argv; errors name the offending flag. Sizes take plain numbers or "64Ki"/"64Mi".
absl::StatusOr<GrpcLoadOptions> ParseGrpcLoadOptions(int argc, char** argv);

// "unary", "invoke-service", "client-stream".
const char* CallModeName(CallMode mode);

}  // namespace ringside::grpc_load
