#pragma once
// LiveConnections: the shard's open inbound connections (HTTP API, gRPC API, internal port),
// for graceful shutdown: drain() all of them, then close_now() what is left at the deadline.
// Intrusive, so joining or leaving the list allocates nothing.
#include <cstddef>

namespace ringside::shard {

class LiveConnection {
 public:
  // Shutdown began: finish what is in flight, take nothing new (GOAWAY / Connection: close).
  virtual void drain() = 0;
  // The graceful bound passed: close now, whatever is in flight.
  virtual void close_now() = 0;

  LiveConnection* next_live = nullptr;  // LiveConnections links
  LiveConnection* prev_live = nullptr;

 protected:
  ~LiveConnection() = default;
};

class LiveConnections {
 public:
  void add(LiveConnection* c) {
    c->prev_live = nullptr;
    c->next_live = head_;
    if (head_) head_->prev_live = c;
    head_ = c;
    ++size_;
  }
  void remove(LiveConnection* c) {
    if (c->prev_live) c->prev_live->next_live = c->next_live;
    if (c->next_live) c->next_live->prev_live = c->prev_live;
    if (head_ == c) head_ = c->next_live;
    c->next_live = c->prev_live = nullptr;
    --size_;
  }
  bool empty() const { return head_ == nullptr; }
  // Open inbound connections of every port: what --max-connections caps (issue 10).
  size_t size() const { return size_; }
  // Calls fn on each connection; fn may remove the one it is given.
  template <class Fn>
  void for_each(Fn fn) {
    for (LiveConnection* c = head_; c;) {
      LiveConnection* next = c->next_live;
      fn(c);
      c = next;
    }
  }

 private:
  LiveConnection* head_ = nullptr;  // most recently accepted first
  size_t size_ = 0;                 // connections in the list
};

}  // namespace ringside::shard
