#include "dataplane/http1/chunked_decoder.h"

#include <cstring>

#include "dataplane/http1/char_class.h"

namespace ringside::http1 {
namespace {

constexpr uint64_t kMaxExcess = 16 * 1024;  // as Go's chunkedReader
constexpr int kMaxHexDigits = 16;           // as Go's parseHexUint

}  // namespace

bool ChunkedDecoder::charge(uint64_t framing_bytes) {
  excess_ += framing_bytes;
  return excess_ <= kMaxExcess;
}

ParseStatus ChunkedDecoder::decode(uint8_t* region, size_t len, uint64_t max_payload) {
  if (state_ == State::kError) return ParseStatus::kError;
  if (state_ == State::kDone) return ParseStatus::kComplete;
  while (read_ < len) {
    uint8_t c = region[read_];
    switch (state_) {
      case State::kSize: {
        int d = hex_value(c);
        if (d >= 0) {
          if (++digits_ > kMaxHexDigits) return fail(400);
          chunk_size_ = (chunk_size_ << 4) | static_cast<uint64_t>(d);
          ++line_bytes_;
          ++read_;
          continue;
        }
        if (digits_ == 0) return fail(400);
        if (chunk_size_ > max_payload || payload_ > max_payload - chunk_size_) return fail(413);
        state_ = State::kSizeSpace;
        continue;  // re-examine c in the new state
      }
      case State::kSizeSpace:
      case State::kExtension:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (c == '\n') {
          state_ = State::kSizeLf;
          continue;  // handled as the LF below without consuming twice
        } else if (state_ == State::kSizeSpace && is_ows(c)) {
          // bad whitespace before ';' (RFC 9112 BWS)
        } else if (c == ';') {
          state_ = State::kExtension;
        } else if (state_ == State::kExtension && is_field_value_char(c)) {
          // extension bytes are skipped
        } else {
          return fail(400);
        }
        ++line_bytes_;
        ++read_;
        if (excess_ + line_bytes_ > kMaxExcess) return fail(400);
        continue;
      case State::kSizeLf: {
        if (c != '\n') return fail(400);
        ++line_bytes_;
        ++read_;
        // Go's accounting: each line costs its length, each chunk earns 16 + 2*size back.
        uint64_t allowance = 16 + 2 * chunk_size_;
        excess_ = excess_ + line_bytes_ > allowance ? excess_ + line_bytes_ - allowance : 0;
        if (excess_ > kMaxExcess) return fail(400);
        line_bytes_ = 0;
        digits_ = 0;
        if (chunk_size_ == 0) {
          state_ = State::kTrailer;
          trailer_empty_ = true;
        } else {
          chunk_left_ = chunk_size_;
          state_ = State::kData;
        }
        chunk_size_ = 0;
        continue;
      }
      case State::kData: {
        size_t avail = len - read_;
        size_t n = chunk_left_ < avail ? static_cast<size_t>(chunk_left_) : avail;
        if (payload_ != read_) std::memmove(region + payload_, region + read_, n);
        payload_ += n;
        read_ += n;
        chunk_left_ -= n;
        if (chunk_left_ == 0) state_ = State::kDataCr;
        continue;
      }
      case State::kDataCr:
        if (c != '\r') return fail(400);
        ++read_;
        state_ = State::kDataLf;
        continue;
      case State::kDataLf:
        if (c != '\n') return fail(400);
        ++read_;
        state_ = State::kSize;
        continue;
      case State::kTrailer:
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (c == '\n') {
          state_ = State::kTrailerLf;
          continue;
        } else if (is_field_value_char(c)) {
          trailer_empty_ = false;
        } else {
          return fail(400);
        }
        ++read_;
        if (!charge(1)) return fail(400);
        continue;
      case State::kTrailerLf:
        if (c != '\n') return fail(400);
        ++read_;
        if (!charge(1)) return fail(400);
        if (trailer_empty_) {
          state_ = State::kDone;
          return ParseStatus::kComplete;
        }
        trailer_empty_ = true;
        state_ = State::kTrailer;
        continue;
      case State::kDone:
      case State::kError:
        break;  // unreachable: handled before the loop
    }
  }
  return ParseStatus::kIncomplete;
}

}  // namespace ringside::http1
