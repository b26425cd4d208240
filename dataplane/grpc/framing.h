#pragma once
// gRPC length-prefixed message framing.
//
//   +-----------+---------------------------+-------------------+
//   | flag (1B) | length (4B, big-endian)   | message (length B)|
//   +-----------+---------------------------+-------------------+
// flag 0 = uncompressed, 1 = compressed with grpc-encoding; other values are malformed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/mem/buffer.h"

namespace ringside::grpc {

inline constexpr size_t kMessagePrefixSize = 5;

// Writes the prefix of an uncompressed message of `length` bytes.
void write_message_prefix(uint32_t length, uint8_t out[kMessagePrefixSize]);

enum class FramingError : uint8_t {
  kNone,             // no error
  kCompressed,       // compressed flag set: we do not support compression
  kBadFlag,          // flag byte other than 0 or 1
  kTooLarge,         // declared length above the limit
  kTooManyMessages,  // a second message on a unary call
  kTruncated,        // stream ended inside a prefix or message
  kMissing,          // stream ended without any message
  kNoMemory,         // the shard pool could not supply the message buffer
};
const char* framing_error_text(FramingError e);
// The gRPC status a framing error is answered with: RESOURCE_EXHAUSTED for a message over the
// limit (or no memory for it), UNIMPLEMENTED for compression, INTERNAL for the rest.
int framing_error_status(FramingError e);

// UnaryMessageReader: reassembles the single message of a unary call from DATA chunks of any
// size, checking the limits as early as the prefix allows (before buffering the body).
class UnaryMessageReader {
 public:
  UnaryMessageReader(mem::ShardPool* pool, uint32_t max_message_bytes)
      : body_(pool), max_(max_message_bytes) {}

  // Consumes a chunk. False once an error happened (error() says which; later calls keep
  // returning false).
  bool feed(const uint8_t* data, size_t len);
  // The peer ended the stream: false if a message is incomplete or none arrived.
  bool finish();
  bool complete() const { return state_ == State::kDone; }
  FramingError error() const { return error_; }
  // The unframed message; valid once complete() and until reset().
  std::string_view message() const { return body_.view(); }
  // Bytes of pool memory the reader holds: grows with what arrived, never with what a
  // prefix declares (tests).
  size_t held_bytes() const { return body_.capacity(); }
  // Ready for another call; the body storage goes back to the pool.
  void reset();

 private:
  enum class State : uint8_t { kPrefix, kBody, kDone, kFailed };
  bool fail(FramingError e) {
    error_ = e;
    state_ = State::kFailed;
    return false;
  }

  mem::Buffer body_;                          // message bytes collected so far
  uint32_t max_;                              // largest accepted message
  uint32_t length_ = 0;                       // declared message length
  uint8_t prefix_[kMessagePrefixSize] = {};   // prefix bytes collected so far
  uint8_t prefix_have_ = 0;                   // how many of them
  State state_ = State::kPrefix;              // where the next byte goes
  FramingError error_ = FramingError::kNone;  // first error seen
};

}  // namespace ringside::grpc
