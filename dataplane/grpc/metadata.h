#pragma once
// Metadata: one gRPC header or trailer as views (keys are lower-case on the wire in HTTP/2).
#include <string_view>

namespace ringside::grpc {

struct Metadata {
  std::string_view key;    // lower-case header name, never a pseudo-header
  std::string_view value;  // raw value (binary "-bin" values stay base64 as on the wire)
};

// Headers the gRPC transport consumes or regenerates itself, so they are not handed to the
// application as metadata (same list as grpc-go's isReservedHeader, minus user-agent, which
// grpc-go passes through too). Pseudo-headers (":path") are always reserved.
bool is_reserved_header(std::string_view key);

}  // namespace ringside::grpc
