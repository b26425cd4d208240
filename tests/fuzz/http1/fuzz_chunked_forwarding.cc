// libFuzzer driver for http1::ChunkedDecoder used the way the app channel streams a chunked
// response (dataplane/appchannel/http/http_app_stream.cc): bytes arrive in pieces of any size and are
// appended to a stash; after each arrival the stash is decoded in place, the decoded payload
// is forwarded (or, while the reader is paused, left where it is) and then removed from the
// front of the stash with discard_payload(), so the stash never holds the whole body.
// Invariants: the forwarded bytes, the outcome (complete / error and its status) and the bytes
// left after the body are exactly what decoding the whole input in one go gives, whatever the
// split and pause pattern; payload and consumed offsets stay inside the stash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/http1/chunked_decoder.h"

namespace {

using namespace ringside;

#define CHECK(cond)        \
  do {                     \
    if (!(cond)) {         \
      __builtin_trap();    \
    }                      \
  } while (0)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0 seeds the piece sizes, byte 1 the pause pattern; the rest is the body.
  uint32_t split_seed = data[0];
  uint32_t pause_seed = data[1];
  data += 2;
  size -= 2;

  // Reference: the whole input in one go.
  std::vector<uint8_t> whole(data, data + size);
  http1::ChunkedDecoder ref;
  const http1::ParseStatus ref_status = ref.decode(whole.data(), whole.size(), UINT64_MAX);
  const std::vector<uint8_t> ref_payload(whole.begin(), whole.begin() + static_cast<long>(ref.payload_size()));

  http1::ChunkedDecoder d;
  std::vector<uint8_t> stash;      // received, not forwarded
  std::vector<uint8_t> forwarded;  // payload handed on
  http1::ParseStatus st = http1::ParseStatus::kIncomplete;
  size_t fed = 0;
  size_t after_body = 0;  // bytes following the body, once complete
  for (size_t round = 0; fed < size || round == 0; ++round) {
    split_seed = split_seed * 1103515245u + 12345u;
    const size_t piece = 1 + (split_seed >> 16) % 64;
    const size_t n = piece < size - fed ? piece : size - fed;
    stash.insert(stash.end(), data + fed, data + fed + n);
    fed += n;
    // Decode until nothing new comes out (a paused reader leaves the payload in place).
    for (int again = 0; again < 3; ++again) {
      st = d.decode(stash.data(), stash.size(), UINT64_MAX);
      CHECK(d.payload_size() <= stash.size());
      if (st == http1::ParseStatus::kError) break;
      pause_seed = pause_seed * 1103515245u + 12345u;
      const bool paused = ((pause_seed >> 16) & 3) == 0;
      const size_t payload = static_cast<size_t>(d.payload_size());
      if (payload > 0 && !paused) {
        forwarded.insert(forwarded.end(), stash.begin(), stash.begin() + static_cast<long>(payload));
        stash.erase(stash.begin(), stash.begin() + static_cast<long>(payload));
        d.discard_payload(payload);
      }
      if (st == http1::ParseStatus::kComplete) break;
    }
    if (st != http1::ParseStatus::kIncomplete) break;
  }
  if (st == http1::ParseStatus::kComplete) {
    // Forward what a paused reader still held, then look at what follows the body.
    const size_t payload = static_cast<size_t>(d.payload_size());
    forwarded.insert(forwarded.end(), stash.begin(), stash.begin() + static_cast<long>(payload));
    stash.erase(stash.begin(), stash.begin() + static_cast<long>(payload));
    d.discard_payload(payload);
    CHECK(d.consumed() <= stash.size());
    after_body = stash.size() - d.consumed() + (size - fed);
  }

  CHECK(st == ref_status);
  if (ref_status == http1::ParseStatus::kComplete) {
    CHECK(st == http1::ParseStatus::kComplete);
    CHECK(forwarded == ref_payload);
    CHECK(after_body == size - ref.consumed());
  } else if (ref_status == http1::ParseStatus::kError) {
    CHECK(st == http1::ParseStatus::kError);
    CHECK(d.error_status() == ref.error_status());
  } else {
    CHECK(st == http1::ParseStatus::kIncomplete);
    // Everything decoded so far was forwarded or is still at the stash's front, in order.
    std::vector<uint8_t> seen(forwarded);
    seen.insert(seen.end(), stash.begin(), stash.begin() + static_cast<long>(d.payload_size()));
    CHECK(seen == ref_payload);
  }
  return 0;
}
