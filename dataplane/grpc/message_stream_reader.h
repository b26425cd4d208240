#pragma once
// MessageStreamReader: splits the raw DATA bytes of a streaming gRPC call into its
// length-prefixed messages (framing.h), whatever the split of the bytes.
//
// Pull interface: next() takes bytes from the caller's span until one message is complete. A
// message that lies whole inside the span is returned as a view into it (no copy); only one
// that straddles feeds is collected into pool memory. Limits are checked on the prefix, before
// any body byte is buffered. Errors use FramingError like UnaryMessageReader.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/grpc/framing.h"
#include "dataplane/mem/buffer.h"

namespace ringside::grpc {

class MessageStreamReader {
 public:
  enum class Result : uint8_t {
    kMessage,   // *message holds one complete message
    kNeedMore,  // the span is used up; feed the next bytes
    kError,     // malformed or oversize input (error() says which); later calls fail too
  };

  MessageStreamReader(mem::ShardPool* pool, uint32_t max_message_bytes)
      : body_(pool), max_(max_message_bytes) {}

  // Consumes bytes from the front of *in until a message completes (kMessage; *in is advanced
  // past it, the rest stays for the next call) or *in is empty (kNeedMore). The message view is
  // valid until the next call to next()/reset() and while the bytes of *in are.
  Result next(std::span<const uint8_t>* in, std::string_view* message);
  // The peer ended the stream: false if it stopped inside a prefix or a message (kTruncated).
  bool finish();
  // No partial prefix or message is pending.
  bool between_messages() const { return state_ == State::kPrefix && prefix_have_ == 0; }
  FramingError error() const { return error_; }
  // Ready for another stream; buffered storage goes back to the pool.
  void reset();

 private:
  enum class State : uint8_t { kPrefix, kBody, kFailed };
  Result fail(FramingError e) {
    error_ = e;
    state_ = State::kFailed;
    return Result::kError;
  }

  mem::Buffer body_;                          // bytes of a message straddling feeds
  uint32_t max_;                              // largest accepted message
  uint32_t length_ = 0;                       // declared length of the current message
  uint8_t prefix_[kMessagePrefixSize] = {};   // prefix bytes collected so far
  uint8_t prefix_have_ = 0;                   // how many of them
  State state_ = State::kPrefix;              // where the next byte goes
  FramingError error_ = FramingError::kNone;  // first error seen
};

}  // namespace ringside::grpc
