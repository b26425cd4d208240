#pragma once
// HeaderStore: copies header name/value pairs into pool memory as they arrive (HPACK hands them
// over one at a time in transient buffers) and exposes them as a span of Metadata views.
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/grpc/metadata.h"
#include "dataplane/grpc/pod_vector.h"
#include "dataplane/mem/buffer.h"

namespace ringside::grpc {

class HeaderStore {
 public:
  explicit HeaderStore(mem::ShardPool* pool) : bytes_(pool), entries_(pool), views_(pool) {}

  bool add(std::string_view key, std::string_view value);
  // Copies one string and returns a stable handle to it (offset, size) for later view().
  bool add_string(std::string_view s, uint32_t* offset);
  std::string_view string_at(uint32_t offset, uint32_t size) const {
    return bytes_.view().substr(offset, size);
  }
  size_t count() const { return entries_.size(); }
  size_t bytes() const { return bytes_.size(); }
  // Views over the stored pairs. Valid until the next add*/clear/release; false on no memory.
  bool materialize(std::span<const Metadata>* out);
  void clear();
  void release();

 private:
  struct Entry {
    uint32_t key_off;    // offset of the key in bytes_
    uint32_t key_len;    // key length
    uint32_t value_off;  // offset of the value in bytes_
    uint32_t value_len;  // value length
  };
  mem::Buffer bytes_;           // all keys and values back to back
  PodVector<Entry> entries_;    // one per pair, in arrival order
  PodVector<Metadata> views_;   // built by materialize()
};

}  // namespace ringside::grpc
