// Interruptible sleeps and a capped exponential back-off for resolver threads (etcd's watch and
// lease keeper, the sync subscriber): stop() must end every wait at once so stop() joins promptly.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>

namespace ringside::resolvers {

class StopSignal {
 public:
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  // Sleeps for `d` unless stop() comes first; false when stopped.
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, d, [&] { return stopped_; });
  }

 private:
  mutable std::mutex mu_;       // guards stopped_
  std::condition_variable cv_;  // wakes sleepers on stop()
  bool stopped_ = false;        // stop() was called
};

// 100 ms, doubling up to `max`, with ±20 % jitter so sidecars restarted together do not
// reconnect in lock-step.
class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds max) : max_(max), rng_(std::random_device{}()) {}
  std::chrono::milliseconds next() {
    std::chrono::milliseconds base = current_;
    current_ = std::min(max_, current_ * 2);
    std::uniform_int_distribution<int> jitter(80, 120);
    return std::max(std::chrono::milliseconds(1), base * jitter(rng_) / 100);
  }
  void reset() { current_ = std::min(max_, kInitial); }

 private:
  static constexpr std::chrono::milliseconds kInitial{100};
  std::chrono::milliseconds max_;                         // cap
  std::chrono::milliseconds current_ = std::min(max_, kInitial);  // next base delay
  std::minstd_rand rng_;                                  // jitter source
};

}  // namespace ringside::resolvers
