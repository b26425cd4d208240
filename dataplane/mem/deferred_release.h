#pragma once
// DeferredRelease: objects whose life ends inside a callback are destroyed at the end of the
// shard's loop turn, when no frame of theirs can be on the stack any more (as Envoy's
// deferredDelete). Whoever ends an object first unlinks it from everything that could still
// call it, then hands it here; its memory stays valid until run(), so code still unwinding
// through it needs no per-object "busy" counters or "am I inside a callback" flags.
//
// Storage is one pool-backed array that grows during warm-up only: releasing allocates nothing
// in steady state.
#include <cstddef>
#include <new>
#include <type_traits>

#include "dataplane/mem/shard_pool.h"

namespace ringside::mem {

class DeferredRelease {
 public:
  explicit DeferredRelease(ShardPool* pool) : pool_(pool) {}
  // Pending objects are not destroyed here: at shard teardown the pool frees every block,
  // live or not, without destructors (the owner calls run() first while the shard is whole).
  ~DeferredRelease() {
    if (entries_) pool_->deallocate(entries_);
  }
  DeferredRelease(const DeferredRelease&) = delete;
  DeferredRelease& operator=(const DeferredRelease&) = delete;

  // obj (made with pool_new on this pool) is destroyed and its memory returned at the next
  // run(). Polymorphic objects may be released through a base pointer.
  template <class T>
  void release(T* obj) {
    if (!obj) return;
    if (size_ == cap_ && !grow()) {
      // The pool is exhausted: keeping the object is safe, freeing it now is not.
      ++leaked_;
      return;
    }
    entries_[size_++] = Entry{obj, &destroy<T>};
  }

  // Destroys everything released so far, including what their destructors release.
  void run() {
    for (size_t i = 0; i < size_; ++i) entries_[i].destroy(entries_[i].obj, pool_);
    size_ = 0;
  }

  size_t pending() const { return size_; }
  // Objects kept alive because the array could not grow (pool exhausted).
  size_t leaked() const { return leaked_; }

 private:
  struct Entry {
    void* obj;                                    // as handed to release()
    void (*destroy)(void* obj, ShardPool* pool);  // runs ~T and frees the allocation
  };

  template <class T>
  static void destroy(void* p, ShardPool* pool) {
    T* obj = static_cast<T*>(p);
    void* block = obj;
    // A base-class pointer may not be the start of the allocation: find the most derived object.
    if constexpr (std::is_polymorphic_v<T>) block = dynamic_cast<void*>(obj);
    obj->~T();
    pool->deallocate(block);
  }

  bool grow() {
    size_t cap = cap_ ? cap_ * 2 : 64;
    auto* bigger = static_cast<Entry*>(pool_->allocate(cap * sizeof(Entry)));
    if (!bigger) return false;
    for (size_t i = 0; i < size_; ++i) bigger[i] = entries_[i];
    if (entries_) pool_->deallocate(entries_);
    entries_ = bigger;
    cap_ = cap;
    return true;
  }

  ShardPool* pool_;            // where released objects and the array live
  Entry* entries_ = nullptr;   // pending releases, in order
  size_t size_ = 0;            // entries in use
  size_t cap_ = 0;             // entries allocated
  size_t leaked_ = 0;          // releases dropped for lack of memory
};

}  // namespace ringside::mem
