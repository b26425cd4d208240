#include "dataplane/resiliency/compile_policies.h"

namespace ringside::resiliency {
namespace {

RetryPlan retry_plan(const config::RetryPolicyConfig& c) {
  RetryPlan r;
  r.exponential = c.exponential;
  r.duration_ns = c.duration_ns;
  r.initial_interval_ns = c.initial_interval_ns;
  r.max_interval_ns = c.max_interval_ns;
  r.max_retries = c.max_retries;
  r.match_http = !c.http_status_codes.empty();
  r.match_grpc = !c.grpc_status_codes.empty();
  for (auto [lo, hi] : c.http_status_codes) {
    for (int code = lo; code <= hi && code < 640; ++code) r.http_codes[code / 64] |= uint64_t{1} << (code % 64);
  }
  for (auto [lo, hi] : c.grpc_status_codes) {
    for (int code = lo; code <= hi && code <= 16; ++code) r.grpc_codes |= uint32_t{1} << code;
  }
  return r;
}

TargetPolicy target_policy(const config::ResolvedAppPolicies& c) {
  TargetPolicy p;
  if (c.timeout_ns) p.timeout_ns = *c.timeout_ns;
  if (c.retry) {
    p.has_retry = true;
    p.retry = retry_plan(*c.retry);
  }
  if (c.circuit_breaker) {
    p.has_breaker = true;
    p.breaker.max_requests = c.circuit_breaker->max_requests;
    p.breaker.interval_ns = c.circuit_breaker->interval_ns;
    p.breaker.timeout_ns = c.circuit_breaker->timeout_ns;
    p.breaker.trip_failures = c.circuit_breaker->trip_consecutive_failures;
  }
  return p;
}

}  // namespace

Policies compile_policies(const config::ResolvedResiliency& resolved) {
  Policies out;
  for (const auto& [id, p] : resolved.apps) out.add_app(id, target_policy(p));
  out.set_defaults(target_policy(resolved.defaults));
  if (resolved.builtin_override) out.set_builtin_retry(retry_plan(*resolved.builtin_override));
  return out;
}

}  // namespace ringside::resiliency
