#include "controlplane/apphealth/app_health_monitor.h"

#include "absl/strings/str_cat.h"

namespace ringside::apphealth {

AppHealthMonitor::AppHealthMonitor(MonitorOptions options, ProbeFn probe, ChangeFn on_change, LogFn log)
    : options_(options),
      probe_(std::move(probe)),
      on_change_(std::move(on_change)),
      log_(std::move(log)),
      decider_(options.threshold) {}

AppHealthMonitor::~AppHealthMonitor() { stop(); }

void AppHealthMonitor::start() {
  log_(absl::StrCat("app health probes starting (every ", options_.interval.count(), " ms, timeout ",
                    options_.timeout.count(), " ms, threshold ", decider_.threshold(),
                    "); the app counts as unhealthy until the first probe succeeds"));
  thread_ = std::thread([this] { run(); });
}

void AppHealthMonitor::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AppHealthMonitor::run() {
  // A fixed cadence like daprd's ticker: the next probe is due one interval after the last
  // was due, however long the probe took (it is shorter than the interval).
  auto next = std::chrono::steady_clock::now() + options_.interval;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
    }
    next += options_.interval;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + options_.interval;  // a stalled thread does not burst
    const bool ok = probe_(options_.timeout);
    probes_.fetch_add(1, std::memory_order_relaxed);
    if (!ok) failed_.fetch_add(1, std::memory_order_relaxed);
    switch (decider_.record(ok)) {
      case HealthDecider::Transition::kNone:
        break;
      case HealthDecider::Transition::kBecameHealthy:
        healthy_.store(true, std::memory_order_relaxed);
        log_("app entered healthy status");
        on_change_(true);
        break;
      case HealthDecider::Transition::kBecameUnhealthy:
        healthy_.store(false, std::memory_order_relaxed);
        log_(absl::StrCat("app entered unhealthy status: app health check failed ", decider_.failures(),
                          " times"));
        on_change_(false);
        break;
    }
  }
}

}  // namespace ringside::apphealth
