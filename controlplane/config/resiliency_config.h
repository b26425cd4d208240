// Parser and loader of Dapr `Resiliency` resources (spec §6.2, apiVersion dapr.io/v1alpha1),
// read from the --resources-path directories as daprd does: every *.yaml / *.yml file, every
// `---` document in it; documents of another kind are ignored.
//
//   apiVersion: dapr.io/v1alpha1
//   kind: Resiliency
//   metadata: {name: myresiliency}
//   scopes: [checkout]                   # only these app ids load it (absent/empty = all)
//   spec:
//     policies:
//       timeouts:        {general: 5s}
//       retries:
//         retryForever:  {policy: constant, duration: 1s, maxRetries: -1,
//                         matching: {httpStatusCodes: "500,502-504", gRPCStatusCodes: "14"}}
//         backoff:       {policy: exponential, maxInterval: 10s, maxRetries: 5}
//       circuitBreakers:
//         simpleCB:      {maxRequests: 1, interval: 0s, timeout: 30s, trip: consecutiveFailures > 5}
//     targets:
//       apps:
//         orders: {timeout: general, retry: backoff, circuitBreaker: simpleCB}
//
// Errors name the file and the YAML key path, e.g.
// `/res/r.yaml: document 1: spec.policies.timeouts.general: "5x" is not a duration`.
// Only the parts service invocation uses are interpreted; actor/component targets are accepted
// (validated as names where they refer to policies) and otherwise ignored.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace ringside::config {

// Inclusive ranges of status codes, e.g. "500,502-504" → {500,500},{502,504}.
using CodeRanges = std::vector<std::pair<int, int>>;

struct RetryPolicyConfig {
  bool exponential = false;                  // policy: exponential (else constant)
  int64_t duration_ns = 5'000'000'000;       // constant interval (default 5s)
  int64_t initial_interval_ns = 500'000'000; // exponential: first wait (daprd: 500ms)
  int64_t max_interval_ns = 60'000'000'000;  // exponential cap (default 60s)
  int64_t max_retries = -1;                  // -1 = unlimited, 0 = none
  CodeRanges http_status_codes;              // matching.httpStatusCodes (empty = not given)
  CodeRanges grpc_status_codes;              // matching.gRPCStatusCodes (empty = not given)
};

struct CircuitBreakerConfig {
  uint32_t max_requests = 1;                 // half-open probes (default 1)
  int64_t interval_ns = 0;                   // closed-state counter reset period; 0 = never
  int64_t timeout_ns = 60'000'000'000;       // open-state duration (default 60s)
  uint32_t trip_consecutive_failures = 6;    // trips when consecutive failures reach this
                                             // ("> 5" → 6, ">= 5" → 5; default "> 5")
};

// Policy names of one target (empty = none named).
struct TargetPolicyNames {
  std::string timeout;          // spec.targets.apps.<id>.timeout
  std::string retry;            // …retry
  std::string circuit_breaker;  // …circuitBreaker
};

struct ResiliencyResource {
  std::string source;                                        // "<file>: document <n>"
  std::string name;                                          // metadata.name
  std::vector<std::string> scopes;                           // app ids; empty = every app
  std::map<std::string, int64_t> timeouts;                   // name → ns
  std::map<std::string, RetryPolicyConfig> retries;          // name → policy
  std::map<std::string, CircuitBreakerConfig> circuit_breakers;  // name → policy
  std::map<std::string, TargetPolicyNames> app_targets;      // app id → policy names
};

// Parses one YAML document already known to be `kind: Resiliency`. Errors name the key path.
absl::Status parse_resiliency(const YAML::Node& doc, ResiliencyResource* out);

// "500,502-504" within [min, max]; an error names `path`.
absl::StatusOr<CodeRanges> parse_code_ranges(std::string_view text, int min, int max, std::string_view path);

// The "trip" expression: `consecutiveFailures > N` or `consecutiveFailures >= N` (spaces free);
// nullopt for anything else. Returns the failure count that trips.
std::optional<uint32_t> parse_trip(std::string_view text);

// The `---`-separated documents of a YAML stream, blank ones dropped (a `...` line ends a
// document). yaml-cpp's own LoadAll loops forever on some malformed streams (",8$" is one), so
// the loader splits the text itself and loads each document with YAML::Load.
std::vector<std::string> split_yaml_documents(std::string_view text);

// Reads every Resiliency resource in `dirs` (a missing directory is skipped, as daprd does)
// that applies to `app_id` (scopes). Errors name the file.
absl::StatusOr<std::vector<ResiliencyResource>> load_resiliency(const std::vector<std::string>& dirs,
                                                                std::string_view app_id);

// The policies service invocation of one target app id uses, resolved from the loaded
// resources: the target's named policies, else the DefaultApp*Policy / Default*Policy names.
struct ResolvedAppPolicies {
  std::optional<int64_t> timeout_ns;                   // per attempt
  std::optional<RetryPolicyConfig> retry;              // user retry policy
  std::optional<CircuitBreakerConfig> circuit_breaker; // breaker parameters
};

struct ResolvedResiliency {
  std::vector<std::pair<std::string, ResolvedAppPolicies>> apps;  // spec.targets.apps entries
  ResolvedAppPolicies defaults;                                   // no target matched
  // A retry policy named DaprBuiltInServiceRetries (maxRetries forced up to 3): replaces the
  // built-in §6.1 parameters for calls without a target entry.
  std::optional<RetryPolicyConfig> builtin_override;
  bool any() const { return !apps.empty() || defaults.timeout_ns || defaults.retry || defaults.circuit_breaker || builtin_override; }
};

// Merges the resources (policy names from all of them; a later resource's policy of the same
// name wins) and resolves each target. A target naming an unknown policy is an error naming
// the resource and key path.
absl::StatusOr<ResolvedResiliency> resolve_resiliency(const std::vector<ResiliencyResource>& resources);

}  // namespace ringside::config
