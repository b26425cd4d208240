#pragma once
// PooledByteQueue: a FIFO of bytes in fixed-size shard-pool blocks.
//
// Why not a mem::Buffer: a Buffer that grows to N bytes doubles its way there, and every
// smaller block it outgrew stays resident in the pool's free lists, so holding N bytes once
// costs up to ~2N (4N when two such buffers swap, as a socket's pending/sending pair does).
// Here every block has the same size class, so N bytes cost N rounded up to one block, and the
// blocks are recycled for the next burst. Used for request bytes an app connection has not
// taken yet (HttpAppChannel: up to one HTTP/2 stream window per call).
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/mem/buffer.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::invoke {

class PooledByteQueue {
 public:
  explicit PooledByteQueue(mem::ShardPool* pool) : pool_(pool) {}
  ~PooledByteQueue() { clear(); }
  PooledByteQueue(const PooledByteQueue&) = delete;
  PooledByteQueue& operator=(const PooledByteQueue&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Copies bytes in at the back; false (nothing added) when the pool is empty.
  bool append(std::span<const uint8_t> bytes);
  // Moves up to max bytes from the front to the end of out; returns how many (fewer only when
  // the queue runs out or out cannot grow).
  size_t move_to(mem::Buffer& out, size_t max);
  // Drops everything and gives the blocks back.
  void clear();

 private:
  struct Block;
  // Block payload: the block with its header fills one 64 KiB pool class exactly.
  static size_t block_capacity();

  mem::ShardPool* pool_;
  Block* head_ = nullptr;  // front: bytes leave here
  Block* tail_ = nullptr;  // back: bytes arrive here
  size_t size_ = 0;        // bytes queued
};

}  // namespace ringside::invoke
