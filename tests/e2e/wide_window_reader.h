// A gRPC client that grants the server an (almost) unlimited HTTP/2 window and then stops
// reading: the worst case for a proxy's output memory. grpc++ cannot play it (its transport
// sizes its own window, ~15-20 MiB in practice), so this one drives nghttp2 over a blocking
// socket by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::e2e {

// What one server-streaming call delivered.
struct WideWindowResult {
  std::vector<std::string> messages;  // the gRPC messages of the response, in order
  std::string grpc_status;            // the grpc-status trailer ("" if none came)
};

// Calls `path` on 127.0.0.1:`port` with the given extra metadata and one request message
// (already serialized), with stream and connection windows of 2^31-1 bytes. It reads until the
// first response message arrives, sleeps `stall` without reading, then reads to the end of the
// stream (bounded by `deadline`).
absl::StatusOr<WideWindowResult> CallWithWideWindow(
    int port, std::string_view path, const std::vector<std::pair<std::string, std::string>>& metadata,
    std::string_view request, std::chrono::milliseconds stall, std::chrono::milliseconds deadline);

}  // namespace ringside::e2e
