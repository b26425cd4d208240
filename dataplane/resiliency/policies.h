#pragma once
// Resiliency policies (spec §6.2) compiled for the shards: what service invocation of one target
// app id does on timeouts, failures and repeated failures. Built once at start-up from the
// Resiliency resources (compile_policies.h), then shared read-only by every shard; lookups on the
// request path compare strings and never allocate.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringside::resiliency {

struct RetryPlan {
  bool exponential = false;                  // exponential back-off (else constant)
  int64_t duration_ns = 5'000'000'000;       // constant interval
  int64_t initial_interval_ns = 500'000'000; // exponential: first wait (daprd: 500 ms)
  int64_t max_interval_ns = 60'000'000'000;  // exponential cap
  // daprd's exponential back-off (dapr/kit retry over cenkalti/backoff defaults): each wait is
  // 1.5x the last (capped at maxInterval), randomized +-50%, and retrying stops once the next
  // wait would end more than 15 minutes after the call began.
  static constexpr double kMultiplier = 1.5;
  static constexpr double kRandomization = 0.5;
  static constexpr int64_t kMaxElapsedNs = int64_t{15} * 60 * 1'000'000'000;
  int64_t max_retries = -1;                  // -1 = unlimited, 0 = none
  bool match_http = false;                   // matching.httpStatusCodes given
  bool match_grpc = false;                   // matching.gRPCStatusCodes given
  uint64_t http_codes[10] = {};              // bit (code - 0) for codes 0..639 (100..599 used)
  uint32_t grpc_codes = 0;                   // bit per gRPC code 0..16

  // An app answer with this HTTP status (a failure: <200 or >399) is retried.
  bool retries_http(int code) const {
    if (!match_http) return !match_grpc;  // no matching at all: every failing code
    return code >= 0 && code < 640 && ((http_codes[code / 64] >> (code % 64)) & 1);
  }
  // A failed call (the sidecar-to-sidecar gRPC status) is retried.
  bool retries_grpc(int code) const {
    if (!match_grpc) return true;
    return code >= 0 && code <= 16 && ((grpc_codes >> code) & 1);
  }
  // The wait before retry number `retry` (1-based), before randomization: constant, or
  // initial x 1.5^(retry-1) capped at maxInterval.
  int64_t delay_ns(int retry) const {
    if (!exponential) return duration_ns;
    double d = static_cast<double>(initial_interval_ns);
    const double cap = static_cast<double>(max_interval_ns);
    for (int i = 1; i < retry && d < cap; ++i) d *= kMultiplier;
    return static_cast<int64_t>(d < cap ? d : cap);
  }
  // The wait actually used: exponential waits are drawn uniformly from [d/2, 3d/2] for the
  // delay_ns() above (so retries of many callers do not fire in step); constant ones are exact.
  // `random`: a uniform 64-bit value.
  int64_t jittered_delay_ns(int retry, uint64_t random) const {
    const int64_t d = delay_ns(retry);
    if (!exponential) return d;
    const double unit = static_cast<double>(random >> 11) * 0x1.0p-53;  // [0, 1)
    return static_cast<int64_t>(static_cast<double>(d) * (1.0 - kRandomization + 2 * kRandomization * unit));
  }
};

struct BreakerPlan {
  uint32_t max_requests = 1;              // half-open probes
  int64_t interval_ns = 0;                // closed-state counter reset period; 0 = never
  int64_t timeout_ns = 60'000'000'000;    // open-state duration
  uint32_t trip_failures = 6;             // consecutive failures that open it
};

struct TargetPolicy {
  bool from_target = false;   // a spec.targets.apps entry (else the Default* policies)
  int64_t timeout_ns = 0;     // per attempt; 0 = none
  bool has_retry = false;     // a user retry policy applies (replaces the built-in retry)
  RetryPlan retry;            // valid when has_retry
  bool has_breaker = false;   // a circuit breaker applies
  BreakerPlan breaker;        // valid when has_breaker
  bool any() const { return timeout_ns > 0 || has_retry || has_breaker; }
};

class Policies {
 public:
  // The policy for calls to `app_id`; nullptr when none applies (the built-in behaviour).
  const TargetPolicy* find(std::string_view app_id) const {
    for (const auto& [id, p] : apps_) {
      if (id == app_id) return p.any() ? &p : nullptr;
    }
    return defaults_.any() ? &defaults_ : nullptr;
  }
  // DaprBuiltInServiceRetries given by the user (spec §6.1 override); nullptr = the built-in.
  const RetryPlan* builtin_retry() const { return has_builtin_ ? &builtin_ : nullptr; }
  bool any_breaker() const {
    for (const auto& a : apps_) {
      if (a.second.has_breaker) return true;
    }
    return defaults_.has_breaker;
  }

  void add_app(std::string app_id, TargetPolicy p) {
    p.from_target = true;
    apps_.emplace_back(std::move(app_id), p);
  }
  void set_defaults(const TargetPolicy& p) { defaults_ = p; }
  void set_builtin_retry(const RetryPlan& r) {
    builtin_ = r;
    has_builtin_ = true;
  }

 private:
  std::vector<std::pair<std::string, TargetPolicy>> apps_;  // spec.targets.apps, in name order
  TargetPolicy defaults_;                                   // DefaultApp*/Default* policies
  RetryPlan builtin_;                                       // DaprBuiltInServiceRetries override
  bool has_builtin_ = false;                                // builtin_ is set
};

}  // namespace ringside::resiliency
