#include "dataplane/mem/pooled_byte_queue.h"

#include <algorithm>
#include <cstring>

namespace ringside::invoke {
namespace {
constexpr size_t kPoolHeaderBytes = 16;          // ShardPool's per-block header
constexpr size_t kBlockBytes = size_t{64} << 10;  // one pool class
}  // namespace

struct PooledByteQueue::Block {
  Block* next;
  uint32_t begin;  // first unread byte
  uint32_t end;    // one past the last written byte
  uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
};

size_t PooledByteQueue::block_capacity() {
  return kBlockBytes - kPoolHeaderBytes - sizeof(Block);
}

bool PooledByteQueue::append(std::span<const uint8_t> bytes) {
  // Allocate every block needed first, so a failure adds nothing.
  size_t room = tail_ ? block_capacity() - tail_->end : 0;
  Block* fresh = nullptr;
  Block* fresh_tail = nullptr;
  for (size_t need = bytes.size() > room ? bytes.size() - room : 0; need > 0;) {
    auto* b = static_cast<Block*>(pool_->allocate(kBlockBytes - kPoolHeaderBytes));
    if (!b) {
      while (fresh) {
        Block* next = fresh->next;
        pool_->deallocate(fresh);
        fresh = next;
      }
      return false;
    }
    b->next = nullptr;
    b->begin = b->end = 0;
    if (fresh_tail) {
      fresh_tail->next = b;
    } else {
      fresh = b;
    }
    fresh_tail = b;
    need -= std::min(need, block_capacity());
  }
  if (fresh) {
    if (tail_) {
      tail_->next = fresh;
    } else {
      head_ = fresh;
    }
  }
  Block* b = tail_ ? tail_ : fresh;
  size_t off = 0;
  while (off < bytes.size()) {
    if (b->end == block_capacity()) b = b->next;
    const size_t n = std::min(bytes.size() - off, block_capacity() - b->end);
    std::memcpy(b->data() + b->end, bytes.data() + off, n);
    b->end += static_cast<uint32_t>(n);
    off += n;
  }
  if (fresh_tail) tail_ = fresh_tail;
  size_ += bytes.size();
  return true;
}

size_t PooledByteQueue::move_to(mem::Buffer& out, size_t max) {
  size_t moved = 0;
  while (head_ && moved < max) {
    const size_t n = std::min<size_t>(head_->end - head_->begin, max - moved);
    if (!out.append(head_->data() + head_->begin, n)) break;
    head_->begin += static_cast<uint32_t>(n);
    moved += n;
    size_ -= n;
    if (head_->begin == head_->end) {  // only the tail block is ever partly filled
      Block* next = head_->next;
      pool_->deallocate(head_);
      head_ = next;
      if (!head_) tail_ = nullptr;
    }
  }
  return moved;
}

void PooledByteQueue::clear() {
  while (head_) {
    Block* next = head_->next;
    pool_->deallocate(head_);
    head_ = next;
  }
  tail_ = nullptr;
  size_ = 0;
}

}  // namespace ringside::invoke
