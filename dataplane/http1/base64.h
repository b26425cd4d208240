#pragma once
// Standard-alphabet base64 (RFC 4648 §4) without allocation. Used for Basic auth (Go's
// base64.StdEncoding: padding required) and gRPC "-bin" metadata (padding optional there).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ringside::http1 {

// Characters base64_encode writes for n input bytes (always padded).
constexpr size_t base64_encoded_size(size_t n) { return (n + 2) / 3 * 4; }
// Upper bound of bytes base64_decode writes for an input of n characters.
constexpr size_t base64_decoded_max_size(size_t n) { return (n + 3) / 4 * 3; }

// Encodes in with '=' padding. out needs base64_encoded_size(in.size()) chars; returns chars
// written, or 0 if out is too small (and in is not empty).
size_t base64_encode(std::span<const uint8_t> in, std::span<char> out);

enum class Base64Padding {
  kRequired,  // Go StdEncoding: length multiple of 4, '=' padding only at the end
  kOptional,  // also accept unpadded input (Go RawStdEncoding), as gRPC does for -bin values
};

// Decodes in. Leftover bits in the last group are ignored (Go's non-strict mode). Returns false
// on a character outside the alphabet, misplaced or wrong padding, or when out is smaller than
// needed; *written = bytes written.
bool base64_decode(std::string_view in, std::span<uint8_t> out, size_t* written,
                   Base64Padding padding = Base64Padding::kRequired);

}  // namespace ringside::http1
