#pragma once
// FlushList: the shard's list of output that waits for the end of the loop turn.
//
// Why: a forwarded call produces its frames in several callbacks of one turn (HEADERS, DATA,
// trailers; several calls multiplexed on one peer connection). Sending as soon as bytes are
// appended makes each of them a send of its own, and each wakes the other side. Instead a
// writer only marks itself dirty here; the shard loop runs the list right before it submits
// and waits, so everything one turn produced for a connection leaves in one send.
//
// Intrusive and doubly linked: adding, removing (a connection closed while dirty) and running
// never allocate. A node is on the list at most once; run() takes nodes from the head until
// the list is empty, so a node added while the list runs (an HTTP/2 link whose pull of
// nghttp2 output marks its TCP connection dirty) runs in the same pass. Shard thread only.
#include <cstddef>

namespace ringside::io {

class FlushList {
 public:
  // One participant; embed it in the object and give it the function that does the work.
  struct Node {
    void (*run)(void* owner) = nullptr;  // does the deferred work (once per add)
    void* owner = nullptr;         // what run() is given (the embedding object)
    Node* prev = nullptr;          // the node before this one while on the list
    Node* next = nullptr;          // the node after this one while on the list
    bool linked = false;           // on the list now
  };

  FlushList() = default;
  FlushList(const FlushList&) = delete;
  FlushList& operator=(const FlushList&) = delete;

  // Puts n at the tail unless it is already on the list (several flushes in a turn: one run).
  void add(Node* n) {
    if (n->linked) return;
    n->linked = true;
    n->next = nullptr;
    n->prev = tail_;
    if (tail_) {
      tail_->next = n;
    } else {
      head_ = n;
    }
    tail_ = n;
    ++size_;
  }

  // Takes n off the list if it is on it (an object about to be destroyed must call this).
  void remove(Node* n) {
    if (!n->linked) return;
    if (n->prev) {
      n->prev->next = n->next;
    } else {
      head_ = n->next;
    }
    if (n->next) {
      n->next->prev = n->prev;
    } else {
      tail_ = n->prev;
    }
    n->prev = n->next = nullptr;
    n->linked = false;
    --size_;
  }

  // Runs every node, oldest first, including nodes added meanwhile. A node is unlinked before
  // its function runs, so the function may add it again (it then runs again in this pass) or
  // destroy its object. Returns the number of runs.
  size_t run() {
    size_t runs = 0;
    while (head_) {
      Node* n = head_;
      remove(n);
      n->run(n->owner);
      ++runs;
    }
    return runs;
  }

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }

 private:
  Node* head_ = nullptr;  // oldest entry
  Node* tail_ = nullptr;  // newest entry
  size_t size_ = 0;       // entries on the list
};

}  // namespace ringside::io
