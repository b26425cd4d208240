#include "dataplane/grpc/message_stream_reader.h"

#include <algorithm>

namespace ringside::grpc {

MessageStreamReader::Result MessageStreamReader::next(std::span<const uint8_t>* in,
                                                      std::string_view* message) {
  // Each pass consumes at least one byte or returns: bounded by the span's size.
  while (!in->empty() || (state_ == State::kBody && length_ == 0)) {
    switch (state_) {
      case State::kFailed:
        return Result::kError;
      case State::kPrefix: {
        size_t take = std::min<size_t>(in->size(), kMessagePrefixSize - prefix_have_);
        std::copy_n(in->data(), take, prefix_ + prefix_have_);
        prefix_have_ = static_cast<uint8_t>(prefix_have_ + take);
        *in = in->subspan(take);
        if (prefix_have_ < kMessagePrefixSize) return Result::kNeedMore;
        if (prefix_[0] == 1) return fail(FramingError::kCompressed);
        if (prefix_[0] != 0) return fail(FramingError::kBadFlag);
        length_ = uint32_t{prefix_[1]} << 24 | uint32_t{prefix_[2]} << 16 |
                  uint32_t{prefix_[3]} << 8 | uint32_t{prefix_[4]};
        if (length_ > max_) return fail(FramingError::kTooLarge);
        prefix_have_ = 0;
        state_ = State::kBody;
        body_.clear();
        break;
      }
      case State::kBody: {
        if (body_.empty() && in->size() >= length_) {
          // The whole message is in this feed: hand out a view, copy nothing.
          *message = std::string_view(reinterpret_cast<const char*>(in->data()), length_);
          *in = in->subspan(length_);
          state_ = State::kPrefix;
          return Result::kMessage;
        }
        // Reserved as bytes arrive, not as declared (see UnaryMessageReader::feed).
        size_t take = std::min<size_t>(in->size(), length_ - body_.size());
        if (!body_.append(in->data(), take)) return fail(FramingError::kNoMemory);
        *in = in->subspan(take);
        if (body_.size() < length_) return Result::kNeedMore;
        *message = body_.view();
        state_ = State::kPrefix;
        return Result::kMessage;
      }
    }
  }
  return state_ == State::kFailed ? Result::kError : Result::kNeedMore;
}

bool MessageStreamReader::finish() {
  if (state_ == State::kFailed) return false;
  if (!between_messages()) {
    fail(FramingError::kTruncated);
    return false;
  }
  return true;
}

void MessageStreamReader::reset() {
  body_.release();
  length_ = 0;
  prefix_have_ = 0;
  state_ = State::kPrefix;
  error_ = FramingError::kNone;
}

}  // namespace ringside::grpc
