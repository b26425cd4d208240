#pragma once
// PodVector<T>: a growable array of trivially copyable T whose storage is a pool-backed
// Buffer. Used for per-call header tables and per-connection scratch lists, so steady-state
// calls allocate from the shard pool only (no global allocator calls once the pool is warm).
#include <cstddef>
#include <span>
#include <type_traits>

#include "dataplane/mem/buffer.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::mem {

template <typename T>
class PodVector {
  static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= 16);

 public:
  explicit PodVector(ShardPool* pool) : buf_(pool) {}

  bool push_back(const T& v) { return buf_.append(&v, sizeof(T)); }
  size_t size() const { return buf_.size() / sizeof(T); }
  bool empty() const { return buf_.empty(); }
  T* data() { return reinterpret_cast<T*>(buf_.data()); }
  const T* data() const { return reinterpret_cast<const T*>(buf_.data()); }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  std::span<const T> span() const { return {data(), size()}; }
  void clear() { buf_.clear(); }
  // Gives the storage back to the pool (the pool caches it for the next call).
  void release() { buf_.release(); }

 private:
  Buffer buf_;  // raw element bytes; never consumed, so data() stays 16-byte aligned
};

}  // namespace ringside::mem
