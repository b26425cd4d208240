#include "dataplane/http2/pool_mem.h"

namespace ringside::http2 {
namespace {

void* pool_malloc(size_t size, void* ud) {
  return static_cast<mem::ShardPool*>(ud)->allocate(size);
}
void pool_free(void* ptr, void* ud) { static_cast<mem::ShardPool*>(ud)->deallocate(ptr); }
void* pool_calloc(size_t n, size_t size, void* ud) {
  return static_cast<mem::ShardPool*>(ud)->allocate_zeroed(n, size);
}
void* pool_realloc(void* ptr, size_t size, void* ud) {
  return static_cast<mem::ShardPool*>(ud)->reallocate(ptr, size);
}

}  // namespace

nghttp2_mem pool_mem(mem::ShardPool* pool) {
  return nghttp2_mem{pool, pool_malloc, pool_free, pool_calloc, pool_realloc};
}

}  // namespace ringside::http2
