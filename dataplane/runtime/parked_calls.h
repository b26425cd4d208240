#pragma once
// ParkedCalls: calls to an app id the current InstanceTable has no answer for, waiting while the
// control plane looks it up (BRIEF §4: on-demand lookups). A parked call costs no allocation: it
// is an intrusive list node plus a shard Timer for its bound. When the shard sees a new table
// (a publish wakes it at once) every parked call tries again and may park again; at its bound a
// call gives up (the call decides the error: daprd's "no host found").
#include <cstddef>
#include <cstdint>

#include "dataplane/runtime/timer_list.h"

namespace ringside::shard {

class ParkedCalls;

class ParkedCall {
 public:
  virtual ~ParkedCall() = default;
  // A new table was published: try again (parking again is allowed).
  virtual void on_table_changed() = 0;
  // The bound passed without an answer.
  virtual void on_park_timeout() = 0;
  bool parked() const { return list_ != nullptr; }

 private:
  friend class ParkedCalls;
  ParkedCall** list_ = nullptr;      // head of the list we are on (waiting or retrying), or null
  ParkedCall* prev_ = nullptr;       // list links
  ParkedCall* next_ = nullptr;
  ParkedCalls* owner_ = nullptr;     // for the timer callback
  Timer timer_;                      // the bound
};

class ParkedCalls {
 public:
  explicit ParkedCalls(TimerList* timers) : timers_(timers) {}
  ParkedCalls(const ParkedCalls&) = delete;
  ParkedCalls& operator=(const ParkedCalls&) = delete;

  // Parks `c` until the next table or `deadline_ns`, whichever comes first. Callers that park
  // again pass their original deadline.
  void park(ParkedCall* c, int64_t deadline_ns) {
    unpark(c);
    link(c, &waiting_);
    c->owner_ = this;
    c->timer_.fn = &ParkedCalls::on_timer;
    c->timer_.owner = c;
    timers_->arm(&c->timer_, deadline_ns);
  }

  // Takes `c` off the lists (the call ended another way). No-op when not parked.
  void unpark(ParkedCall* c) {
    if (!c->list_) return;
    unlink(c);
    timers_->cancel(&c->timer_);
  }

  // The shard loop saw a new table: every call parked before now tries again, oldest first. A call
  // that parks again waits for the next table; callbacks may unpark or end any other call.
  void on_new_table() {
    while (ParkedCall* c = waiting_) {
      unlink(c);
      link(c, &retrying_);
    }
    while (ParkedCall* c = retrying_) {
      unpark(c);
      c->on_table_changed();
    }
  }

  size_t size() const { return count_; }

 private:
  static void on_timer(void* self) {
    auto* c = static_cast<ParkedCall*>(self);
    c->owner_->unlink(c);  // the timer already left the timer list
    c->on_park_timeout();
  }
  void link(ParkedCall* c, ParkedCall** head) {
    c->prev_ = nullptr;
    c->next_ = *head;
    if (*head) (*head)->prev_ = c;
    *head = c;
    c->list_ = head;
    ++count_;
  }
  void unlink(ParkedCall* c) {
    if (c->prev_) c->prev_->next_ = c->next_;
    else *c->list_ = c->next_;
    if (c->next_) c->next_->prev_ = c->prev_;
    c->prev_ = c->next_ = nullptr;
    c->list_ = nullptr;
    --count_;
  }

  TimerList* timers_;              // the shard's timers (bounds)
  ParkedCall* waiting_ = nullptr;  // parked, most recent first
  ParkedCall* retrying_ = nullptr; // being retried by on_new_table()
  size_t count_ = 0;               // calls on either list
};

}  // namespace ringside::shard
