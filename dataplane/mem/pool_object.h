#pragma once
// pool_new / pool_delete: construct objects in ShardPool memory, so per-connection and
// per-request objects recycle through the shard's free lists instead of the global heap.
#include <new>
#include <utility>

#include "dataplane/mem/shard_pool.h"

namespace ringside::mem {

template <class T, class... Args>
T* pool_new(ShardPool* pool, Args&&... args) {
  void* p = pool->allocate(sizeof(T));
  if (!p) return nullptr;
  return new (p) T(std::forward<Args>(args)...);
}

template <class T>
void pool_delete(ShardPool* pool, T* obj) {
  if (!obj) return;
  obj->~T();
  pool->deallocate(obj);
}

}  // namespace ringside::mem
