#pragma once
// HealthDecider: turns probe results into the app's health, with daprd's rules
// (pkg/apphealth): the app starts unhealthy (its failure count starts at the threshold) and
// becomes healthy on the first successful probe; a healthy app becomes unhealthy when
// `threshold` consecutive probes fail; one success resets the count. Pure logic, no clock and
// no I/O, so every decision is unit-tested (tests/unit/apphealth).
#include <cstdint>

namespace ringside::apphealth {

class HealthDecider {
 public:
  // What one probe result changed.
  enum class Transition {
    kNone,           // same state as before
    kBecameHealthy,  // unhealthy (or starting) -> healthy: log once, serve again
    kBecameUnhealthy,  // healthy -> unhealthy: log once, refuse calls, withdraw
  };

  // threshold < 1 is treated as 1 (the flag parser already refuses it).
  explicit HealthDecider(int threshold);

  // Feeds one probe result (true = the probe succeeded).
  Transition record(bool probe_succeeded);

  bool healthy() const { return failures_ < threshold_; }
  // Consecutive failed probes, capped just past the threshold (daprd's overflow guard).
  int32_t failures() const { return failures_; }
  int32_t threshold() const { return threshold_; }

 private:
  int32_t threshold_;  // consecutive failures that make the app unhealthy
  int32_t failures_;   // consecutive failures so far; starts at threshold_ (unhealthy until a success)
};

}  // namespace ringside::apphealth
