#include "controlplane/resolvers/consul/consul_resolver.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controlplane/resolvers/consul/consul_http.h"
#include "controlplane/resolvers/consul/health_entries.h"
#include "controlplane/snapshot/instance.h"

namespace ringside::resolvers::consul {

namespace {

constexpr std::chrono::minutes kConsulDefaultWait{5};  // what the agent uses without ?wait=
// A blocking query that comes back this fast with an unchanged index did not block (a proxy
// or agent misbehaving); the next one waits a little so the loop cannot spin.
constexpr std::chrono::milliseconds kSpinGuard{1000};

CURLM* multi_of(void* p) { return static_cast<CURLM*>(p); }

}  // namespace

ConsulResolver::ConsulResolver(ConsulOptions options) : options_(std::move(options)) {}

ConsulResolver::~ConsulResolver() { stop(); }

absl::Status ConsulResolver::start(const SelfRegistration& self, InstanceSink* sink) {
  sink_ = sink;
  absl::StatusOr<std::optional<Registration>> reg = build_registration(options_, self);
  if (!reg.ok()) return reg.status();
  registration_ = *std::move(reg);
  const ClientOptions& client = options_.client;
  if (registration_) {
    ConsulRequest put(client, "PUT", build_url(client, "/v1/agent/service/register", {}), registration_->body.dump(),
                      "", "", options_.request_timeout);
    absl::StatusOr<Response> r = put.perform();
    if (!r.ok()) return absl::UnavailableError(absl::StrCat("failed to register consul service: ", r.status().message()));
  } else {
    // daprd checks the agent is reachable when it registers nothing.
    ConsulRequest get(client, "GET", build_url(client, "/v1/agent/self", {}), "", "", "", options_.request_timeout);
    absl::StatusOr<Response> r = get.perform();
    if (!r.ok()) return absl::UnavailableError(absl::StrCat("failed check on consul agent: ", r.status().message()));
  }
  multi_ = curl_multi_init();
  if (!multi_) return absl::InternalError("consul: curl_multi_init failed");
  stopping_.store(false);
  started_ = true;
  worker_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void ConsulResolver::lookup(std::string_view app_id, std::string_view ns) {
  (void)ns;  // Consul service names carry no Dapr namespace (daprd ignores it too)
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_.emplace_back(app_id);
  }
  if (multi_) curl_multi_wakeup(multi_of(multi_));
}

void ConsulResolver::stop() {
  if (!started_) return;
  started_ = false;
  stopping_.store(true);
  curl_multi_wakeup(multi_of(multi_));
  if (worker_.joinable()) worker_.join();
  curl_multi_cleanup(multi_of(multi_));
  multi_ = nullptr;
  if (registration_ && options_.self_deregister) {
    const ClientOptions& client = options_.client;
    const std::string path = absl::StrCat("/v1/agent/service/deregister/", escape_path_segment(registration_->service_id));
    ConsulRequest put(client, "PUT", build_url(client, path, {}), "", "", "", options_.request_timeout);
    absl::StatusOr<Response> r = put.perform();
    if (!r.ok()) {
      std::fprintf(stderr, "ringside: consul: failed to deregister consul service: %s\n",
                   std::string(r.status().message()).c_str());
    }
  }
  sink_ = nullptr;
}

absl::Status ConsulResolver::set_serving(bool serving) {
  if (!registration_) return absl::OkStatus();
  const ClientOptions& client = options_.client;
  const std::string path = absl::StrCat("/v1/agent/service/maintenance/", escape_path_segment(registration_->service_id));
  Params params = {{"enable", serving ? "false" : "true"}};
  if (!serving) params.push_back({"reason", "ringside: app is not in a healthy state"});
  ConsulRequest put(client, "PUT", build_url(client, path, params), "", "", "", options_.request_timeout);
  absl::StatusOr<Response> r = put.perform();
  if (!r.ok()) return absl::UnavailableError(absl::StrCat("consul maintenance mode of ", registration_->service_id, ": ", r.status().message()));
  return absl::OkStatus();
}

void ConsulResolver::run() {
  CURLM* multi = multi_of(multi_);
  while (!stopping_.load()) {
    Clock::time_point now = Clock::now();
    take_lookups(now);
    start_due(now);
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (auto& [app, t] : tracked_) {
        if (t->in_flight && t->in_flight->handle() == msg->easy_handle) {
          curl_multi_remove_handle(multi, msg->easy_handle);
          complete(*t, msg->data.result, Clock::now());
          break;
        }
      }
    }
    // Sleep until a transfer moves, a lookup arrives (curl_multi_wakeup) or a retry is due.
    now = Clock::now();
    Clock::time_point wake = now + std::chrono::seconds(1);
    for (const auto& [app, t] : tracked_) {
      if (!t->in_flight) wake = std::min(wake, t->next_at);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(std::max<int64_t>(ms, 0)), nullptr);
  }
  for (auto& [app, t] : tracked_) {
    if (t->in_flight) curl_multi_remove_handle(multi, t->in_flight->handle());
  }
  tracked_.clear();
}

void ConsulResolver::take_lookups(Clock::time_point now) {
  std::deque<std::string> asked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    asked.swap(queued_);
  }
  for (std::string& app : asked) {
    auto [it, inserted] = tracked_.try_emplace(app);
    if (inserted) {
      it->second = std::make_unique<Tracked>();
      it->second->app_id = app;
      it->second->next_at = now;
      it->second->answer_owed = true;
      continue;
    }
    Tracked& t = *it->second;
    if (t.backoff.count() > 0) {
      // The agent is failing for this app: answer with the last good answer (or none, which
      // fails the parked calls now) rather than keep them waiting through the back-off.
      publish(t, t.have_result ? t.published : std::vector<std::string>{});
    } else if (options_.use_cache && t.have_result) {
      publish(t, t.published);  // the watch keeps the answer current: answer from it
    } else {
      t.answer_owed = true;
      if (!options_.use_cache && !t.in_flight) t.next_at = now;  // daprd queries on every resolve
    }
  }
}

void ConsulResolver::start_due(Clock::time_point now) {
  const ClientOptions& client = options_.client;
  const QueryOptions& q = options_.query;
  for (auto& [app, tp] : tracked_) {
    Tracked& t = *tp;
    if (t.in_flight || t.next_at > now) continue;
    Params params;
    std::chrono::milliseconds timeout = options_.request_timeout;
    const bool blocking = options_.use_cache && t.index > 0;
    for (const auto& p : q.params) {
      if (options_.use_cache && p.first == "cached") continue;  // daprd's watcher never uses the agent cache
      params.push_back(p);
    }
    const std::string path = absl::StrCat("/v1/health/service/", escape_path_segment(t.app_id));
    Params label_params = params;
    label_params.emplace_back("passing", "1");
    const std::string label = build_url(client, path, label_params);
    std::string cache_control = options_.use_cache ? std::string() : q.cache_control;
    if (blocking) {
      params.emplace_back("index", absl::StrCat(t.index));
      std::chrono::milliseconds wait = q.wait_time.count() > 0 ? q.wait_time : client.wait_time;
      if (q.wait_time.count() > 0) params.emplace_back("wait", absl::StrCat(q.wait_time.count(), "ms"));
      if (wait.count() == 0) wait = kConsulDefaultWait;
      timeout += wait + wait / 16;  // Consul adds up to wait/16 of jitter
    }
    params.emplace_back("passing", "1");
    const std::string url = build_url(client, path, params);
    t.in_flight = std::make_unique<ConsulRequest>(client, "GET", url, "", q.token, cache_control, timeout, label);
    t.started = now;
    if (!t.in_flight->handle()) {
      complete(t, CURLE_FAILED_INIT, now);
      continue;
    }
    curl_multi_add_handle(multi_of(multi_), t.in_flight->handle());
  }
}

void ConsulResolver::complete(Tracked& t, int curl_code, Clock::time_point now) {
  std::unique_ptr<ConsulRequest> req = std::move(t.in_flight);
  absl::StatusOr<Response> r = req->result(curl_code);
  absl::StatusOr<HealthAddresses> parsed = r.ok() ? addresses_from_health(r->body, options_.dapr_port_meta_key)
                                                  : absl::StatusOr<HealthAddresses>(r.status());
  if (r.ok() && !parsed.ok()) {
    parsed = absl::DataLossError(absl::StrCat("consul: ", req->what(), ": ", parsed.status().message()));
  }
  if (!parsed.ok()) {
    // Keep the last answer; retry with back-off from a non-blocking query (daprd resets the index).
    t.index = 0;
    t.backoff = t.backoff.count() == 0 ? options_.retry_initial : std::min(t.backoff * 2, options_.retry_max);
    t.next_at = now + t.backoff;
    t.error = std::string(parsed.status().message());
    // One outage is one report: a blocking query cut by the agent going away ("connection
    // reset") and the retries that follow ("connection refused") are the same problem.
    t.error_kind = !r.ok() ? (r.status().message().find(": HTTP ") != absl::string_view::npos ? "http" : "transport")
                           : "answer";
    if (!r.ok() && t.error_kind == "http") t.error_kind = t.error;  // a different HTTP answer is news
    // A lookup waiting for this request gets the last good answer, or none (parked calls fail now).
    if (t.answer_owed) publish(t, t.have_result ? t.published : std::vector<std::string>{});
    report_errors();
    return;
  }
  const bool was_failing = t.backoff.count() > 0;
  t.backoff = std::chrono::milliseconds(0);
  t.error.clear();
  t.error_kind.clear();
  if (was_failing) report_errors();
  // Entries that cannot be dialled are logged when that list changes, not on every answer.
  std::string skipped = absl::StrJoin(parsed->skipped, "; ");
  if (skipped != t.skipped_logged) {
    if (!skipped.empty()) std::fprintf(stderr, "ringside: consul: %s: skipped %s\n", t.app_id.c_str(), skipped.c_str());
    t.skipped_logged = std::move(skipped);
  }
  if (options_.use_cache) {
    // Consul's blocking-query rules: reset when the index goes backwards, never block on 0.
    const uint64_t got = r->index.value_or(0);
    const bool unchanged = got == t.index && t.index != 0;
    uint64_t next = got < t.index ? 0 : got;
    t.index = std::max<uint64_t>(next, 1);
    t.next_at = unchanged && now - t.started < kSpinGuard ? now + kSpinGuard : now;
  } else {
    t.next_at = now + options_.refresh_interval;
  }
  if (!t.have_result || t.answer_owed || parsed->addresses != t.published) publish(t, std::move(parsed->addresses));
}

void ConsulResolver::publish(Tracked& t, std::vector<std::string> addresses) {
  t.answer_owed = false;
  std::vector<snapshot::Instance> instances;
  instances.reserve(addresses.size());
  for (const std::string& a : addresses) {
    absl::StatusOr<snapshot::Instance> i = snapshot::make_instance(t.app_id, "", a);
    if (i.ok()) {
      instances.push_back(*std::move(i));
    } else {
      std::fprintf(stderr, "ringside: consul: %s: skipped %s\n", t.app_id.c_str(), std::string(i.status().message()).c_str());
    }
  }
  if (!addresses.empty() || t.backoff.count() == 0) {
    t.have_result = true;
    t.published = std::move(addresses);
  }
  if (sink_) sink_->publish_app(t.app_id, "", std::move(instances));
}

void ConsulResolver::report_errors() {
  std::string text, kind;
  for (const auto& [app, t] : tracked_) {
    if (!t->error.empty()) {
      text = t->error;
      kind = absl::StrCat(app, "\n", t->error_kind);
      break;
    }
  }
  if (kind == reported_) return;
  reported_ = kind;
  if (!sink_) return;
  sink_->report_status(text.empty() ? absl::OkStatus() : absl::UnavailableError(text));
}

absl::StatusOr<std::unique_ptr<Resolver>> make_consul_resolver(std::string_view configuration_yaml) {
  absl::StatusOr<ConsulOptions> o = parse_consul_options(configuration_yaml);
  if (!o.ok()) return o.status();
  return std::unique_ptr<Resolver>(new ConsulResolver(*std::move(o)));
}

}  // namespace ringside::resolvers::consul

