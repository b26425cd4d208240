#pragma once
// BufferRing: a provided-buffer ring (io_uring_register_buf_ring) that multishot recv picks
// receive buffers from. liburing 2.3 lacks io_uring_setup_buf_ring, so the ring memory is mapped
// and registered here.
//
//   ring memory: [ io_uring_buf x entries ]   (the tail lives in the first entry's resv field)
//   buffers:     [ buf 0 | buf 1 | ... | buf entries-1 ]  each `buffer_size` bytes
// A buffer id (bid) comes back in cqe->flags >> IORING_CQE_BUFFER_SHIFT; the receiver reads it
// and hands it back with recycle(bid) as soon as the bytes are consumed or copied.
#include <liburing.h>

#include <cstdint>
#include <span>

#include "absl/status/status.h"

namespace ringside::io {

class BufferRing {
 public:
  BufferRing() = default;
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  // entries must be a power of two.
  absl::Status init(io_uring* ring, uint16_t group_id, unsigned entries, unsigned buffer_size);

  uint16_t group_id() const { return group_id_; }
  std::span<const uint8_t> buffer(uint16_t bid, size_t len) const {
    return {buffers_ + size_t{bid} * buffer_size_, len};
  }
  // Returns a buffer to the kernel.
  void recycle(uint16_t bid);
  // The ring is about to be torn down (which drops the registration with it): the destructor
  // then only unmaps the memory.
  void detach() { detached_ = true; }

  // Issue 11 metrics: recv completions that found every buffer in use (-ENOBUFS). Bumped by
  // TcpConnection, copied into ShardCounters::recv_enobufs by the shard loop.
  uint64_t enobufs_seen = 0;  // owning shard only

 private:
  io_uring* ring_ = nullptr;
  io_uring_buf_ring* br_ = nullptr;
  uint8_t* buffers_ = nullptr;
  size_t ring_bytes_ = 0;
  size_t buffer_bytes_ = 0;
  unsigned entries_ = 0;
  unsigned buffer_size_ = 0;
  uint16_t group_id_ = 0;
  bool detached_ = false;   // the ring went away first: nothing to unregister
};

}  // namespace ringside::io
