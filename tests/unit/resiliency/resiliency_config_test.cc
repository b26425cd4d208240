// The Resiliency resource parser and loader (controlplane/config/resiliency_config.h) and the
// compiled policies the shards read (dataplane/resiliency/compile_policies.h).
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "controlplane/config/options.h"
#include "controlplane/config/resiliency_config.h"
#include "dataplane/resiliency/compile_policies.h"
#include "tests/unit/controlplane/temp_dir.h"

namespace ringside::config {
namespace {

absl::Status Parse(const std::string& yaml, ResiliencyResource* out) { return parse_resiliency(YAML::Load(yaml), out); }

constexpr char kFull[] = R"(apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: full}
scopes: [checkout]
spec:
  policies:
    timeouts: {general: 5s, fast: 250ms}
    retries:
      c: {policy: constant, duration: 2s, maxRetries: 4, matching: {httpStatusCodes: "500, 502-504", gRPCStatusCodes: "14,1-2"}}
      e: {policy: exponential, maxInterval: 10s}
    circuitBreakers:
      cb: {maxRequests: 2, interval: 8s, timeout: 45s, trip: consecutiveFailures >= 3}
      dflt: {}
  targets:
    apps:
      orders: {timeout: general, retry: c, circuitBreaker: cb}
    actors:
      myActor: {timeout: fast}
)";

TEST(ResiliencyConfigTest, ParsesEveryPolicyKind) {
  ResiliencyResource r;
  ASSERT_TRUE(Parse(kFull, &r).ok()) << Parse(kFull, &r);
  EXPECT_EQ(r.name, "full");
  EXPECT_EQ(r.scopes, std::vector<std::string>{"checkout"});
  EXPECT_EQ(r.timeouts.at("general"), 5'000'000'000);
  EXPECT_EQ(r.timeouts.at("fast"), 250'000'000);
  const RetryPolicyConfig& c = r.retries.at("c");
  EXPECT_FALSE(c.exponential);
  EXPECT_EQ(c.duration_ns, 2'000'000'000);
  EXPECT_EQ(c.max_retries, 4);
  EXPECT_EQ(c.http_status_codes, (CodeRanges{{500, 500}, {502, 504}}));
  EXPECT_EQ(c.grpc_status_codes, (CodeRanges{{14, 14}, {1, 2}}));
  const RetryPolicyConfig& e = r.retries.at("e");
  EXPECT_TRUE(e.exponential);
  EXPECT_EQ(e.max_interval_ns, 10'000'000'000);
  EXPECT_EQ(e.max_retries, -1) << "daprd's default: unlimited";
  const CircuitBreakerConfig& cb = r.circuit_breakers.at("cb");
  EXPECT_EQ(cb.max_requests, 2u);
  EXPECT_EQ(cb.interval_ns, 8'000'000'000);
  EXPECT_EQ(cb.timeout_ns, 45'000'000'000);
  EXPECT_EQ(cb.trip_consecutive_failures, 3u);
  const CircuitBreakerConfig& d = r.circuit_breakers.at("dflt");
  EXPECT_EQ(d.max_requests, 1u);
  EXPECT_EQ(d.timeout_ns, 60'000'000'000);
  EXPECT_EQ(d.trip_consecutive_failures, 6u) << "daprd's default trip: consecutiveFailures > 5";
  EXPECT_EQ(r.app_targets.at("orders").retry, "c");
}

TEST(ResiliencyConfigTest, ErrorsNameTheKeyPath) {
  struct Case {
    const char* yaml;      // the spec part
    const char* expected;  // in the message
  };
  const Case cases[] = {
      {"spec: {policies: {timeouts: {t: 5x}}}", "spec.policies.timeouts.t: \"5x\" is not a duration"},
      {"spec: {policies: {timeouts: {t: 0s}}}", "spec.policies.timeouts.t: must be more than 0"},
      {"spec: {policies: {retries: {r: {policy: linear}}}}", "spec.policies.retries.r.policy"},
      {"spec: {policies: {retries: {r: {maxRetries: -2}}}}", "spec.policies.retries.r.maxRetries"},
      {"spec: {policies: {retries: {r: {matching: {httpStatusCodes: \"99\"}}}}}",
       "spec.policies.retries.r.matching.httpStatusCodes: \"99\""},
      {"spec: {policies: {retries: {r: {matching: {gRPCStatusCodes: \"3-17\"}}}}}",
       "spec.policies.retries.r.matching.gRPCStatusCodes"},
      {"spec: {policies: {retries: {r: {matching: {httpStatusCodes: \"504-500\"}}}}}", "504-500"},
      {"spec: {policies: {retries: {r: {bogus: 1}}}}", "spec.policies.retries.r.bogus"},
      {"spec: {policies: {circuitBreakers: {c: {trip: \"requests > 3\"}}}}",
       "spec.policies.circuitBreakers.c.trip: \"requests > 3\" is not a supported trip expression"},
      {"spec: {policies: {circuitBreakers: {c: {trip: \"consecutiveFailures > 3 && requests > 2\"}}}}",
       "spec.policies.circuitBreakers.c.trip"},
      {"spec: {policies: {circuitBreakers: {c: {maxRequests: x}}}}", "spec.policies.circuitBreakers.c.maxRequests"},
      {"spec: {targets: {apps: {b: {retry: [a]}}}}", "spec.targets.apps.b.retry"},
      {"spec: {targets: {apps: {b: {retries: x}}}}", "spec.targets.apps.b.retries: unknown key"},
      {"scopes: a", "scopes: must be a list"},
  };
  for (const Case& c : cases) {
    ResiliencyResource r;
    absl::Status s = Parse(std::string("kind: Resiliency\n") + c.yaml, &r);
    EXPECT_FALSE(s.ok()) << c.yaml;
    EXPECT_NE(s.message().find(c.expected), absl::string_view::npos) << c.yaml << " → " << s.message();
  }
}

TEST(ResiliencyConfigTest, TripExpressions) {
  EXPECT_EQ(parse_trip("consecutiveFailures > 5"), 6u);
  EXPECT_EQ(parse_trip("consecutiveFailures>5"), 6u);
  EXPECT_EQ(parse_trip(" consecutiveFailures >= 2 "), 2u);
  EXPECT_EQ(parse_trip("consecutiveFailures >= 0"), 1u);
  EXPECT_EQ(parse_trip("consecutiveFailures > -1"), std::nullopt);
  EXPECT_EQ(parse_trip("consecutiveFailures < 5"), std::nullopt);
  EXPECT_EQ(parse_trip("totalFailures > 5"), std::nullopt);
  EXPECT_EQ(parse_trip("consecutiveFailures > 5x"), std::nullopt);
  EXPECT_EQ(parse_trip(""), std::nullopt);
}

TEST(ResiliencyConfigTest, UnknownPolicyNamesAreErrorsNamingSourceAndPath) {
  ResiliencyResource r;
  ASSERT_TRUE(Parse("kind: Resiliency\nspec: {targets: {apps: {b: {circuitBreaker: nope}}}}", &r).ok());
  r.source = "/x/r.yaml: document 1";
  auto resolved = resolve_resiliency({r});
  ASSERT_FALSE(resolved.ok());
  EXPECT_NE(resolved.status().message().find("/x/r.yaml: document 1: spec.targets.apps.b.circuitBreaker: \"nope\""),
            absl::string_view::npos)
      << resolved.status();
}

TEST(ResiliencyConfigTest, DefaultsAndBuiltInOverrideAreResolved) {
  ResiliencyResource r;
  ASSERT_TRUE(Parse(R"(kind: Resiliency
spec:
  policies:
    timeouts: {DefaultTimeoutPolicy: 9s, DefaultAppTimeoutPolicy: 3s}
    retries:
      DefaultRetryPolicy: {maxRetries: 7}
      DaprBuiltInServiceRetries: {policy: constant, duration: 200ms, maxRetries: 1}
    circuitBreakers: {DefaultCircuitBreakerPolicy: {trip: consecutiveFailures > 1}}
)",
                    &r)
                  .ok());
  auto resolved = resolve_resiliency({r});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->defaults.timeout_ns, 3'000'000'000) << "the invocation-specific name wins";
  ASSERT_TRUE(resolved->defaults.retry.has_value());
  EXPECT_EQ(resolved->defaults.retry->max_retries, 7);
  ASSERT_TRUE(resolved->defaults.circuit_breaker.has_value());
  EXPECT_EQ(resolved->defaults.circuit_breaker->trip_consecutive_failures, 2u);
  ASSERT_TRUE(resolved->builtin_override.has_value());
  EXPECT_EQ(resolved->builtin_override->max_retries, 3) << "spec §6.1: maxRetries below 3 is forced back to 3";
  EXPECT_EQ(resolved->builtin_override->duration_ns, 200'000'000);

  resiliency::Policies p = resiliency::compile_policies(*resolved);
  const resiliency::TargetPolicy* t = p.find("anything");
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->from_target);
  EXPECT_EQ(t->timeout_ns, 3'000'000'000);
  ASSERT_NE(p.builtin_retry(), nullptr);
  EXPECT_EQ(p.builtin_retry()->delay_ns(1), 200'000'000);
}

TEST(ResiliencyConfigTest, CompiledRetryMatchingAndBackOff) {
  ResiliencyResource r;
  ASSERT_TRUE(Parse(R"(kind: Resiliency
spec:
  policies:
    retries:
      m: {matching: {httpStatusCodes: "500,502-504"}}
      g: {matching: {gRPCStatusCodes: "14"}}
      all: {}
      exp: {policy: exponential, maxInterval: 3s}
  targets:
    apps: {m: {retry: m}, g: {retry: g}, all: {retry: all}, exp: {retry: exp}, none: {}}
)",
                    &r)
                  .ok());
  auto resolved = resolve_resiliency({r});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  resiliency::Policies p = resiliency::compile_policies(*resolved);
  const resiliency::RetryPlan& m = p.find("m")->retry;
  EXPECT_TRUE(m.retries_http(500));
  EXPECT_FALSE(m.retries_http(501));
  EXPECT_TRUE(m.retries_http(503));
  EXPECT_FALSE(m.retries_http(404));
  EXPECT_TRUE(m.retries_grpc(13)) << "no gRPC list: transport failures retried";
  const resiliency::RetryPlan& g = p.find("g")->retry;
  EXPECT_FALSE(g.retries_http(500)) << "only gRPC codes listed";
  EXPECT_TRUE(g.retries_grpc(14));
  EXPECT_FALSE(g.retries_grpc(4));
  const resiliency::RetryPlan& all = p.find("all")->retry;
  EXPECT_TRUE(all.retries_http(500));
  EXPECT_TRUE(all.retries_http(404));
  EXPECT_EQ(all.delay_ns(1), 5'000'000'000) << "constant, daprd's default duration";
  const resiliency::RetryPlan& exp = p.find("exp")->retry;
  // daprd's exponential back-off: 500 ms, x1.5 per retry, capped at maxInterval (3 s here) ...
  EXPECT_EQ(exp.delay_ns(1), 500'000'000);
  EXPECT_EQ(exp.delay_ns(2), 750'000'000);
  EXPECT_EQ(exp.delay_ns(3), 1'125'000'000);
  EXPECT_EQ(exp.delay_ns(4), 1'687'500'000);
  EXPECT_EQ(exp.delay_ns(5), 2'531'250'000);
  EXPECT_EQ(exp.delay_ns(6), 3'000'000'000);
  EXPECT_EQ(exp.delay_ns(60), 3'000'000'000);
  // ... randomized +-50%: the extremes of the random range, and a spread of draws inside it.
  EXPECT_EQ(exp.jittered_delay_ns(2, 0), 375'000'000);
  EXPECT_NEAR(static_cast<double>(exp.jittered_delay_ns(2, ~uint64_t{0})), 1'125'000'000.0, 1000.0);
  int64_t lo = INT64_MAX, hi = 0;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 1000; ++i) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    const int64_t d = exp.jittered_delay_ns(1, x);
    ASSERT_GE(d, 250'000'000);
    ASSERT_LE(d, 750'000'000);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, 300'000'000) << "draws cover the range";
  EXPECT_GT(hi, 700'000'000);
  EXPECT_EQ(all.jittered_delay_ns(3, 12345), 5'000'000'000) << "constant waits are exact";
  EXPECT_EQ(p.find("none"), nullptr) << "a target naming no policy: the built-in behaviour";
  EXPECT_EQ(p.find("other"), nullptr);
}

TEST(ResiliencyConfigTest, ResourcesPathMayBeGivenMoreThanOnce) {
  const char* argv[] = {"ringsided", "--app-id", "a", "--resources-path", "./one", "--resources-path=./two"};
  Options o;
  std::string error;
  ASSERT_EQ(parse_flags(6, argv, &o, &error), FlagsOutcome::kRun) << error;
  EXPECT_EQ(o.resources_paths, (std::vector<std::string>{"./one", "./two"}));
}

TEST(ResiliencyConfigTest, SplitsDocuments) {
  EXPECT_EQ(split_yaml_documents("a: 1\n---\nb: 2\n--- {c: 3}\n...\n---\n\n"),
            (std::vector<std::string>{"a: 1\n", "\nb: 2\n", " {c: 3}\n"}));
  EXPECT_EQ(split_yaml_documents("---\na: '---'\n----: x\n"), (std::vector<std::string>{"\na: '---'\n----: x\n"}));
  EXPECT_TRUE(split_yaml_documents("").empty());
}

TEST(ResiliencyConfigTest, LoaderReadsEveryYamlDocumentOfItsKindAndHonoursScopes) {
  ringside::testing::TempDir dir;
  const std::string d1 = dir.path() + "/one";
  const std::string d2 = dir.path() + "/two";
  ::mkdir(d1.c_str(), 0755);
  ::mkdir(d2.c_str(), 0755);
  std::ofstream(d1 + "/a.yaml") << "kind: Component\nspec: {type: state.redis}\n---\nkind: Resiliency\n"
                                   "metadata: {name: mine}\nscopes: [me]\nspec: {policies: {timeouts: {t: 1s}}}\n";
  std::ofstream(d1 + "/b.yml") << "kind: Resiliency\nmetadata: {name: everyone}\n";
  std::ofstream(d1 + "/c.txt") << "kind: Resiliency\nnot: [valid\n";
  std::ofstream(d2 + "/d.yaml") << "kind: Resiliency\nmetadata: {name: others}\nscopes: [someone]\n";
  auto mine = load_resiliency({d1, d2, dir.path() + "/missing"}, "me");
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].name, "mine");
  EXPECT_EQ((*mine)[0].source, d1 + "/a.yaml: document 2");
  EXPECT_EQ((*mine)[1].name, "everyone");
  auto theirs = load_resiliency({d1, d2}, "someone");
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  ASSERT_EQ(theirs->size(), 2u);
  EXPECT_EQ((*theirs)[1].name, "others");

  std::ofstream(d2 + "/e.yaml") << "kind: Resiliency\nspec: {policies: {timeouts: {t: soon}}}\n";
  auto bad = load_resiliency({d1, d2}, "me");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(d2 + "/e.yaml: document 1: spec.policies.timeouts.t"), absl::string_view::npos)
      << bad.status();
  std::ofstream(d2 + "/e.yaml") << "kind: Resiliency\nspec: [unclosed\n";
  bad = load_resiliency({d2}, "me");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(d2 + "/e.yaml: document 1: not valid YAML"), absl::string_view::npos) << bad.status();
  // yaml-cpp's LoadAll never returns on this one; the loader's own split does.
  std::ofstream(d2 + "/e.yaml") << ",8$";
  bad = load_resiliency({d2}, "me");
  EXPECT_TRUE(bad.ok()) << bad.status();
}

}  // namespace
}  // namespace ringside::config
