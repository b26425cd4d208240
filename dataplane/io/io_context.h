#pragma once
// IoContext: the per-shard I/O resources every connection needs. One per shard thread; nothing
// in it is shared with another thread.
#include "dataplane/io/buffer_ring.h"
#include "dataplane/io/flush_list.h"
#include "dataplane/io/ring.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::io {

struct IoContext {
  Ring* ring = nullptr;           // the shard's io_uring
  BufferRing* buffers = nullptr;  // provided receive buffers (multishot recv)
  mem::ShardPool* pool = nullptr; // the shard's allocator
  FlushList* flushes = nullptr;   // output sent at the end of the loop turn (null: at once)
};

}  // namespace ringside::io
