// The gRPC channels ringside-grpc-load drives: one connection each, connected before timing.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "tools/grpc_load/call_driver.h"

namespace ringside::grpc_load {

// An insecure channel to `target` without message size limits. `index` makes its arguments
// differ from every other channel's, so gRPC gives each its own subchannel (its own TCP
// connection) instead of sharing one between all threads.
std::shared_ptr<grpc::Channel> NewLoadChannel(const std::string& target, int index);

// Connects `channel` now, so the first call's latency does not include the TCP and HTTP/2
// handshakes. Fails at once when the connection attempt fails, or at `deadline`.
absl::Status ConnectChannel(grpc::Channel& channel, SystemTime deadline);

}  // namespace ringside::grpc_load
