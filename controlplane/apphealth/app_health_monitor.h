#pragma once
// AppHealthMonitor: the app health prober (--enable-app-health-check, spec §8, §9). Its own
// thread probes the app every --app-health-probe-interval (each probe bounded by
// --app-health-probe-timeout), feeds a HealthDecider, and on each transition
// - stores the health in one atomic that the shards read with a relaxed load (no lock, no
//   allocation): an unhealthy app's sidecar answers CallLocal, CallLocalStream and self-calls at
//   once with daprd's Internal "app is not in a healthy state";
// - logs the transition once;
// - calls on_change (the sidecar asks the control plane to withdraw / restore our registration
//   where the resolver supports it).
// As daprd: the app is unhealthy from start until the first successful probe, and the first
// probe runs one interval after start (daprd's ticker). Never runs on a shard.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "controlplane/apphealth/health_decider.h"

namespace ringside::apphealth {

struct MonitorOptions {
  std::chrono::milliseconds interval{5000};  // --app-health-probe-interval
  std::chrono::milliseconds timeout{500};    // --app-health-probe-timeout (<= interval)
  int threshold = 3;                         // --app-health-threshold
};

class AppHealthMonitor {
 public:
  // One probe: true = healthy answer. Called on the monitor thread only, with the timeout.
  using ProbeFn = std::function<bool(std::chrono::milliseconds timeout)>;
  // A transition (true = became healthy). Called on the monitor thread.
  using ChangeFn = std::function<void(bool healthy)>;
  using LogFn = std::function<void(const std::string&)>;

  AppHealthMonitor(MonitorOptions options, ProbeFn probe, ChangeFn on_change, LogFn log);
  ~AppHealthMonitor();  // stop()
  AppHealthMonitor(const AppHealthMonitor&) = delete;
  AppHealthMonitor& operator=(const AppHealthMonitor&) = delete;

  void start();
  void stop();  // idempotent; joins the thread (a probe in flight ends within its timeout)

  // What the shards read (relaxed load). Valid for the monitor's life.
  const std::atomic<bool>* healthy_flag() const { return &healthy_; }
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  uint64_t probes() const { return probes_.load(std::memory_order_relaxed); }        // probes run
  uint64_t failures() const { return failed_.load(std::memory_order_relaxed); }      // probes failed

 private:
  void run();

  MonitorOptions options_;             // interval, timeout, threshold
  ProbeFn probe_;                      // HTTP GET or gRPC HealthCheck
  ChangeFn on_change_;                 // registry withdraw / restore
  LogFn log_;                          // one line per transition
  HealthDecider decider_;              // monitor thread only
  std::atomic<bool> healthy_{false};   // unhealthy until the first successful probe (daprd)
  std::atomic<uint64_t> probes_{0};    // probes run (tests, metrics)
  std::atomic<uint64_t> failed_{0};    // probes that failed
  std::mutex mu_;                      // guards stopping_ for cv_
  std::condition_variable cv_;         // wakes the interval sleep on stop()
  bool stopping_ = false;              // set by stop()
  std::thread thread_;                 // the prober
};

}  // namespace ringside::apphealth
