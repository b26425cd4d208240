#pragma once
// Percent-encoding of the grpc-message trailer (gRPC HTTP/2 protocol spec): bytes outside
// 0x20..0x7E and '%' itself travel as "%XX" (upper-case hex); everything else as is.
#include <cstddef>
#include <string_view>

namespace ringside::grpc {

// Size of the encoded form of msg.
size_t percent_encoded_size(std::string_view msg);
// Encodes msg into out (capacity cap); returns bytes written, or 0 with nothing useful if cap
// is smaller than percent_encoded_size(msg) (and msg is non-empty).
size_t percent_encode(std::string_view msg, char* out, size_t cap);
// Decodes into out (cap >= v.size() always suffices). Malformed escapes ("%G1", a trailing
// "%") are kept literally, as gRPC implementations do. Returns bytes written.
size_t percent_decode(std::string_view v, char* out, size_t cap);

}  // namespace ringside::grpc
