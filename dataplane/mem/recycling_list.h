#pragma once
// RecyclingList<T>: the objects a connection has in use (an intrusive doubly linked list), on
// pool memory, plus a free list of the blocks of the objects it finished with.
//
// release() destroys the object at once, so its buffers go back to the pool and an idle
// connection holds no bodies; its block is kept, and acquire() builds the next object in it.
// Every object thus starts from its constructor's state: owners never reset fields by hand
// (a field added later cannot leak from one call into the next), and a connection in steady
// state does not even reach the pool for its call objects. The destructor destroys the objects
// still in use and gives every block back.
//
// T provides `T* prev` and `T* next` (owned by the list while the object is in use).
#include <cstddef>
#include <new>
#include <utility>

#include "dataplane/mem/shard_pool.h"

namespace ringside::mem {

template <class T>
class RecyclingList {
 public:
  explicit RecyclingList(ShardPool* pool) : pool_(pool) {}
  ~RecyclingList() {
    while (active_) release(active_);
    while (free_) {
      Block* b = free_;
      free_ = b->next;
      pool_->deallocate(b);
    }
  }
  RecyclingList(const RecyclingList&) = delete;
  RecyclingList& operator=(const RecyclingList&) = delete;

  // A new T(args...) in a recycled block or one from the pool; nullptr when the pool is empty.
  template <class... Args>
  T* acquire(Args&&... args) {
    void* p = free_;
    if (p) {
      free_ = free_->next;
    } else {
      p = pool_->allocate(sizeof(T) > sizeof(Block) ? sizeof(T) : sizeof(Block));
      if (!p) return nullptr;
    }
    T* c = new (p) T(std::forward<Args>(args)...);
    c->prev = nullptr;
    c->next = active_;
    if (active_) active_->prev = c;
    active_ = c;
    ++size_;
    return c;
  }
  // Unlinks and destroys c; its block waits for the next acquire().
  void release(T* c) {
    if (c->prev) c->prev->next = c->next;
    else active_ = c->next;
    if (c->next) c->next->prev = c->prev;
    --size_;
    c->~T();
    Block* b = new (static_cast<void*>(c)) Block;
    b->next = free_;
    free_ = b;
  }
  // The newest object in use (follow ->next for the others), or nullptr.
  T* first() const { return active_; }
  // Objects in use.
  size_t size() const { return size_; }

 private:
  // What a free block holds.
  struct Block {
    Block* next;  // next free block
  };

  ShardPool* pool_;       // where blocks come from and go back to
  T* active_ = nullptr;   // objects in use, newest first
  Block* free_ = nullptr;  // blocks of released objects
  size_t size_ = 0;       // length of active_
};

}  // namespace ringside::mem
