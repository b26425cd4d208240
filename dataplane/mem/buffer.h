#pragma once
// Buffer: a growable, move-only byte buffer whose storage comes from a ShardPool.
//
//   storage: [ consumed | readable (data()..size()) | writable tail ]
// consume() advances the read position; the readable bytes are moved to the front only when
// the tail runs out, so a stream of small reads and writes does no copying in the common case.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "dataplane/mem/shard_pool.h"

namespace ringside::mem {

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(ShardPool* pool) : pool_(pool) {}
  Buffer(Buffer&& o) noexcept { *this = static_cast<Buffer&&>(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      release();
      pool_ = o.pool_; base_ = o.base_; begin_ = o.begin_; end_ = o.end_; cap_ = o.cap_;
      o.base_ = nullptr; o.begin_ = o.end_ = o.cap_ = 0;
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  void set_pool(ShardPool* pool) { pool_ = pool; }
  ShardPool* pool() const { return pool_; }

  const uint8_t* data() const { return base_ + begin_; }
  uint8_t* data() { return base_ + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  size_t capacity() const { return cap_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data()), size()}; }
  std::span<const uint8_t> span() const { return {data(), size()}; }

  // Makes room for n more bytes; false if the pool cannot supply it.
  bool reserve(size_t n) {
    if (cap_ - end_ >= n) return true;
    size_t live = size();
    // No block is larger than the pool's largest class: refuse here, before `live + n` or the
    // doubling below can wrap around (a wrapped size "succeeds" or loops forever).
    if (n > ShardPool::kMaxBlock - live) return false;
    // Compact only when the live bytes are no more than the consumed space they reclaim, so
    // each byte is moved at most once per byte consumed before it. A queue that hovers near a
    // watermark (a stream's outbound queue: 64 KiB in, 16 KiB out at a time, ~256 KiB live)
    // otherwise memmoved its whole live part on every append, several times the body's bytes;
    // it grows once instead (at most to twice its largest live size plus one append).
    if (begin_ >= live && cap_ - live >= n) {
      std::memmove(base_, base_ + begin_, live);
      begin_ = 0; end_ = live;
      return true;
    }
    // More than the current block: a block of the same size would cost the same move.
    size_t want = live + n > cap_ ? live + n : cap_ + 1;
    size_t newcap = cap_ ? cap_ : 256;
    while (newcap < want) newcap *= 2;
    auto* nb = static_cast<uint8_t*>(pool_->allocate(newcap));
    if (!nb) return false;
    if (live) std::memcpy(nb, base_ + begin_, live);
    if (base_) pool_->deallocate(base_);
    base_ = nb; begin_ = 0; end_ = live;
    cap_ = ShardPool::usable_size(nb);
    return true;
  }
  // Writable tail after reserve(); commit(n) after writing n bytes into it.
  uint8_t* tail() { return base_ + end_; }
  size_t tail_room() const { return cap_ - end_; }
  void commit(size_t n) { end_ += n; }

  bool append(const void* p, size_t n) {
    if (n == 0) return true;
    if (!reserve(n)) return false;
    std::memcpy(base_ + end_, p, n);
    end_ += n;
    return true;
  }
  bool append(std::string_view s) { return append(s.data(), s.size()); }

  void consume(size_t n) {
    begin_ += n;
    if (begin_ >= end_) begin_ = end_ = 0;
  }
  void clear() { begin_ = end_ = 0; }
  // Empties the buffer and, when its block is larger than keep_bytes, returns the block to the
  // pool: an idle owner does not pin a block grown for one large message.
  void clear_keeping(size_t keep_bytes) {
    if (cap_ > keep_bytes) {
      release();
    } else {
      clear();
    }
  }
  // Returns storage to the pool.
  void release() {
    if (base_) pool_->deallocate(base_);
    base_ = nullptr; begin_ = end_ = cap_ = 0;
  }

 private:
  ShardPool* pool_ = nullptr;
  uint8_t* base_ = nullptr;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t cap_ = 0;
};

}  // namespace ringside::mem
