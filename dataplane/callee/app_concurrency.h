#pragma once
// AppConcurrency: the permits of --app-max-concurrency, shared by every shard of a sidecar (the
// limit is per sidecar, as in daprd: the app protects itself, whatever shard a call lands on).
// One atomic, touched only by sidecars that set the flag; nothing else is shared.
#include <atomic>

namespace ringside::invoke {

class AppConcurrency {
 public:
  explicit AppConcurrency(int limit) : limit_(limit) {}
  bool try_acquire() {
    int n = in_flight_.load(std::memory_order_relaxed);
    while (n < limit_) {
      if (in_flight_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  }
  void release() { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }
  int limit() const { return limit_; }
  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  const int limit_;                 // calls the app may have at once (> 0)
  std::atomic<int> in_flight_{0};   // permits held, all shards together
};

}  // namespace ringside::invoke
