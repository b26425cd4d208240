#pragma once
// ChunkedDecoder: decodes a Transfer-Encoding: chunked body IN PLACE, incrementally.
//
//   region (from the body's first byte):
//   [ payload compacted | framing already consumed | not yet decoded ...... | next message ]
//   0             payload_size()                    read offset          consumed() when done
//
// Payload bytes are moved down over the framing they followed, so region[0, payload_size())
// always holds the payload decoded so far. The decoder keeps only offsets: the caller may grow
// or move the region between calls (e.g. buffer reallocation) as long as it keeps the content.
//
// Line rules follow Go's net/http chunked reader: chunk-size and trailer lines end at LF with an
// optional CR; chunk data must be followed by exactly CRLF; at most 16 hex digits; extensions
// (";name=value") are skipped; trailer fields are skipped. As in Go, framing overhead beyond
// 16 KiB (minus an allowance per chunk) is refused, so tiny chunks with huge extensions cannot
// make the caller buffer unbounded framing.
#include <cstddef>
#include <cstdint>

#include "dataplane/http1/message.h"

namespace ringside::http1 {

class ChunkedDecoder {
 public:
  // Decodes region[0, len) (len never shrinks between calls). kComplete after the last chunk and
  // its trailers; kError with error_status() 400 (malformed) or 413 (payload above max_payload).
  ParseStatus decode(uint8_t* region, size_t len, uint64_t max_payload);

  // Payload bytes now at region[0, payload_size()).
  uint64_t payload_size() const { return payload_; }
  // When complete: bytes of region the chunked body occupied; a pipelined message starts there.
  size_t consumed() const { return state_ == State::kDone ? read_ : 0; }
  // 400 or 413 after kError, else 0.
  int error_status() const { return error_; }
  // The caller removed the first n payload bytes (n <= payload_size()) from the front of the
  // region, e.g. after forwarding them: offsets shift down so decoding goes on from there.
  void discard_payload(uint64_t n) {
    payload_ -= n;
    read_ -= static_cast<size_t>(n);
  }
  // Ready for a new body.
  void reset() { *this = ChunkedDecoder(); }

 private:
  enum class State : uint8_t {
    kSize,         // reading hex digits of a chunk-size line
    kSizeSpace,    // after the digits: only SP/HTAB, ';' or the line end may follow
    kExtension,    // inside chunk extensions, until the line end
    kSizeLf,       // saw CR at the end of the size line, LF must follow
    kData,         // copying chunk data
    kDataCr,       // data done, CR must follow
    kDataLf,       // CR seen after data, LF must follow
    kTrailer,      // inside a trailer line (or at the start of one)
    kTrailerLf,    // saw CR in a trailer line, LF must follow
    kDone,         // last chunk and trailers consumed
    kError,        // sticky failure
  };

  ParseStatus fail(int status) {
    state_ = State::kError;
    error_ = status;
    return ParseStatus::kError;
  }
  // Adds framing bytes to the overhead budget; false when it is exceeded.
  bool charge(uint64_t framing_bytes);

  State state_ = State::kSize;  // where in the framing the next byte belongs
  size_t read_ = 0;             // offset of the next undecoded byte in region
  uint64_t payload_ = 0;        // payload bytes compacted to the front
  uint64_t chunk_left_ = 0;     // data bytes still to copy of the current chunk
  uint64_t chunk_size_ = 0;     // size being parsed / of the current chunk
  int digits_ = 0;              // hex digits seen on the current size line
  size_t line_bytes_ = 0;       // framing bytes of the current size or trailer line so far
  bool trailer_empty_ = true;   // current trailer line has no bytes yet (an empty one ends it)
  uint64_t excess_ = 0;         // framing overhead budget used (Go's "too much non-data" rule)
  int error_ = 0;               // status when state_ == kError
};

}  // namespace ringside::http1
