// Fuzzes the Resiliency resource end to end: any YAML text (all `---` documents) either fails
// with an error naming a key path, or resolves into policies whose retry matching, back-off and
// circuit breaker (driven by outcomes taken from the input) behave without crashing; the
// code-range and trip parsers see the raw input too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/config/resiliency_config.h"
#include "dataplane/resiliency/circuit_breakers.h"
#include "dataplane/resiliency/policies.h"

namespace {

ringside::resiliency::RetryPlan plan_of(const ringside::config::RetryPolicyConfig& c) {
  ringside::resiliency::RetryPlan r;
  r.exponential = c.exponential;
  r.duration_ns = c.duration_ns;
  r.max_interval_ns = c.max_interval_ns;
  r.max_retries = c.max_retries;
  r.match_http = !c.http_status_codes.empty();
  r.match_grpc = !c.grpc_status_codes.empty();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)ringside::config::parse_code_ranges(text, 100, 599, "x");
  (void)ringside::config::parse_code_ranges(text, 0, 16, "x");
  if (auto trip = ringside::config::parse_trip(text); trip && *trip == 0) __builtin_trap();

  // As the loader does: its own document split, then YAML::Load per document.
  std::vector<ringside::config::ResiliencyResource> resources;
  for (const std::string& doc_text : ringside::config::split_yaml_documents(text)) {
    YAML::Node doc;
    try {
      doc = YAML::Load(doc_text);
    } catch (const YAML::Exception&) {
      continue;  // not YAML: the loader reports it naming the file
    }
    ringside::config::ResiliencyResource r;
    absl::Status s;
    try {
      s = ringside::config::parse_resiliency(doc, &r);
    } catch (const YAML::Exception&) {
      __builtin_trap();  // the parser must turn every bad shape into a Status
    }
    if (!s.ok()) {
      if (s.message().empty()) __builtin_trap();
      continue;
    }
    r.source = "fuzz";
    resources.push_back(std::move(r));
  }
  auto resolved = ringside::config::resolve_resiliency(resources);
  if (!resolved.ok()) {
    if (resolved.status().message().find("fuzz: spec.targets.apps.") != 0) __builtin_trap();
    return 0;
  }
  ringside::resiliency::CircuitBreakers breakers(16);
  int64_t now = 1;
  for (const auto& [id, p] : resolved->apps) {
    if (p.retry) {
      const ringside::resiliency::RetryPlan r = plan_of(*p.retry);
      for (int i = 1; i < 70; ++i) {
        if (r.delay_ns(i) < 0) __builtin_trap();
      }
      (void)r.retries_http(static_cast<int>(size % 700));
      (void)r.retries_grpc(static_cast<int>(size % 20));
    }
    if (p.circuit_breaker) {
      ringside::resiliency::BreakerPlan b;
      b.max_requests = p.circuit_breaker->max_requests;
      b.interval_ns = p.circuit_breaker->interval_ns;
      b.timeout_ns = p.circuit_breaker->timeout_ns;
      b.trip_failures = p.circuit_breaker->trip_consecutive_failures;
      const uint64_t key = ringside::resiliency::breaker_key(id, text);
      for (size_t i = 0; i < size && i < 64; ++i) {
        now += static_cast<int64_t>(data[i]) * 1'000'000'000;
        ringside::resiliency::Admission a = breakers.admit(key, b, now);
        if (a.allowed) breakers.report(key, a, data[i] & 1, b, now);
      }
    }
  }
  return 0;
}
