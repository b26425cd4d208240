#pragma once
// BufferSlice: bytes at a fixed offset from the start of another owner's Buffer, named by
// offset rather than pointer. A Buffer that grows moves its bytes to a new block but keeps
// their offsets from data() (it appends at the end and compacts only by moving everything to
// the front), so a slice stays valid across appends to its buffer; only consume() or clear()
// invalidate it. Used to send a body from where it arrived (issue 11: the ingress input buffer
// keeps receiving pipelined bytes while the request's body is still being sent from it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/mem/buffer.h"

namespace ringside::mem {

struct BufferSlice {
  const Buffer* buffer = nullptr;  // the owner's buffer (nullptr: no bytes)
  size_t offset = 0;               // from buffer->data()
  size_t size = 0;                 // bytes

  // The slice of `owner` that `bytes` (a view into it) covers.
  static BufferSlice of(const Buffer& owner, std::string_view bytes) {
    if (bytes.empty()) return {};
    return {&owner, static_cast<size_t>(reinterpret_cast<const uint8_t*>(bytes.data()) - owner.data()),
            bytes.size()};
  }
  // Where the bytes are now (valid until the owner's buffer changes).
  const uint8_t* data() const { return buffer->data() + offset; }
  std::string_view view() const {
    return size ? std::string_view(reinterpret_cast<const char*>(data()), size) : std::string_view();
  }
};

}  // namespace ringside::mem
