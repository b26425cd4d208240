#pragma once
// nghttp2_mem hooks that route every nghttp2 allocation (sessions, streams, HPACK tables,
// frame buffers) to one shard's ShardPool, so HTTP/2 work makes no global-allocator calls once
// the pool is warm (BRIEF §5, §7).
#include <nghttp2/nghttp2.h>

#include "dataplane/mem/shard_pool.h"

namespace ringside::http2 {

// The returned struct holds the pool pointer; nghttp2 copies it at session creation.
nghttp2_mem pool_mem(mem::ShardPool* pool);

}  // namespace ringside::http2
