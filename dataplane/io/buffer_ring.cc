#include "dataplane/io/buffer_ring.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace ringside::io {

BufferRing::~BufferRing() {
  if (br_) {
    if (!detached_) io_uring_unregister_buf_ring(ring_, group_id_);
    munmap(br_, ring_bytes_);
  }
  if (buffers_) munmap(buffers_, buffer_bytes_);
}

absl::Status BufferRing::init(io_uring* ring, uint16_t group_id, unsigned entries,
                              unsigned buffer_size) {
  if (entries == 0 || (entries & (entries - 1)) != 0 || entries > 32768) {
    return absl::InvalidArgumentError("buffer ring entries must be a power of two <= 32768");
  }
  ring_ = ring;
  group_id_ = group_id;
  entries_ = entries;
  buffer_size_ = buffer_size;
  ring_bytes_ = entries * sizeof(io_uring_buf);
  void* mem = mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return absl::ResourceExhaustedError("mmap of the buffer ring failed");
  br_ = static_cast<io_uring_buf_ring*>(mem);
  buffer_bytes_ = size_t{entries} * buffer_size;
  mem = mmap(nullptr, buffer_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return absl::ResourceExhaustedError("mmap of receive buffers failed");
  buffers_ = static_cast<uint8_t*>(mem);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br_);
  reg.ring_entries = entries;
  reg.bgid = group_id;
  int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc < 0) {
    munmap(br_, ring_bytes_);
    br_ = nullptr;
    return absl::UnavailableError(absl::StrFormat(
        "io_uring provided buffer rings are not available (%s): ringside needs Linux 6.1+",
        std::strerror(-rc)));
  }
  io_uring_buf_ring_init(br_);
  int mask = io_uring_buf_ring_mask(entries);
  for (unsigned i = 0; i < entries; ++i) {
    io_uring_buf_ring_add(br_, buffers_ + size_t{i} * buffer_size, buffer_size,
                          static_cast<unsigned short>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(br_, static_cast<int>(entries));
  return absl::OkStatus();
}

void BufferRing::recycle(uint16_t bid) {
  io_uring_buf_ring_add(br_, buffers_ + size_t{bid} * buffer_size_, buffer_size_, bid,
                        io_uring_buf_ring_mask(entries_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

}  // namespace ringside::io
