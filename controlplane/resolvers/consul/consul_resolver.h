// The consul resolver (spec §7.3, daprd's nameresolution/hashicorp/consul) over Consul's HTTP
// API. Pushing resolver: lookup(app) starts tracking the app id on the resolver's own worker
// thread, which queries GET /v1/health/service/<app>?passing=1 and reports through the sink:
// - useCache: true  -> a blocking query per app id (index/wait, X-Consul-Index) publishes every
//                      change as it happens;
// - useCache: false -> the app id is queried again on every lookup and every
//                      ringside.refreshInterval.
// Errors back off (ringside.retryInitial doubling to retryMax) and are reported once per
// distinct text; the last table keeps serving. Registration (selfRegister/advancedRegistration)
// happens in start(), deregistration (selfDeregister) in stop(). Picking among the instances is
// the per-app load balancer's job (daprd picks at random).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "controlplane/resolvers/consul/consul_options.h"
#include "controlplane/resolvers/consul/registration.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::resolvers::consul {

class ConsulRequest;

class ConsulResolver final : public Resolver {
 public:
  explicit ConsulResolver(ConsulOptions options);
  ~ConsulResolver() override;  // stop()

  absl::Status start(const SelfRegistration& self, InstanceSink* sink) override;
  bool lists() const override { return false; }
  void lookup(std::string_view app_id, std::string_view ns) override;
  void stop() override;
  bool namespace_aware() const override { return false; }  // daprd ignores namespaces for consul
  // Issue 10, app health: our registered service goes into Consul's maintenance mode while our
  // app is unhealthy (a critical check, so ?passing=1 leaves it out) and out of it when it
  // recovers. Nothing when we registered nothing. Control thread; blocking (requestTimeout).
  absl::Status set_serving(bool serving) override;

  // The registration sent in start() (nullopt = none); for tests and logs.
  const std::optional<Registration>& registration() const { return registration_; }

 private:
  using Clock = std::chrono::steady_clock;

  // One app id the data plane asked for; worker thread only.
  struct Tracked {
    std::string app_id;                        // the Consul service name
    std::unique_ptr<ConsulRequest> in_flight;  // the running request, if any
    Clock::time_point started{};               // when in_flight started
    Clock::time_point next_at{};               // when to send the next request
    uint64_t index = 0;                        // last X-Consul-Index (blocking queries)
    bool have_result = false;                  // `published` holds a good answer
    std::vector<std::string> published;        // addresses last published
    bool answer_owed = false;                  // a lookup waits for an answer
    std::chrono::milliseconds backoff{0};      // current back-off (0 = not failing)
    std::string error;                         // last error text while failing
    std::string error_kind;                    // "transport", "answer" or the HTTP error text
    std::string skipped_logged;                // entries skipped in the last answer, as logged
  };

  void run();
  void take_lookups(Clock::time_point now);
  void start_due(Clock::time_point now);
  void complete(Tracked& t, int curl_code, Clock::time_point now);
  void publish(Tracked& t, std::vector<std::string> addresses);
  void report_errors();

  ConsulOptions options_;                   // parsed configuration
  std::optional<Registration> registration_;  // what start() registered
  InstanceSink* sink_ = nullptr;            // where answers go (valid until stop() returns)
  void* multi_ = nullptr;                   // CURLM*: the worker's transfers
  std::thread worker_;                      // runs run()
  std::atomic<bool> stopping_{false};       // set by stop()
  bool started_ = false;                    // start() succeeded and stop() not yet done

  std::mutex mu_;                           // guards queued_
  std::deque<std::string> queued_;          // app ids asked by lookup(), not yet taken

  absl::flat_hash_map<std::string, std::unique_ptr<Tracked>> tracked_;  // worker thread only
  std::string reported_;                    // app and error kind last reported ("" = healthy); worker only
};

// Factory entry: parses spec.nameResolution.configuration (errors name the path).
absl::StatusOr<std::unique_ptr<Resolver>> make_consul_resolver(std::string_view configuration_yaml);

}  // namespace ringside::resolvers::consul
