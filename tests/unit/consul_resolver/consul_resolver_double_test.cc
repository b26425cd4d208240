// The consul resolver against the Consul HTTP API double (tests/support/consul_api_double),
// which follows Consul's documented endpoints and blocking-query semantics. Label:
// consul-api-double.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controlplane/resolvers/consul/consul_resolver.h"
#include "nlohmann/json.hpp"
#include "tests/support/consul_api_double/consul_api_double.h"

namespace ringside::resolvers::consul {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using testing_support = ::ringside::testing::ConsulApiDouble;

// Records what the resolver reports; every wait is bounded.
class RecordingSink final : public InstanceSink {
 public:
  struct Published {
    std::string app;                     // app id
    std::vector<std::string> addresses;  // address_text of each instance, sorted
  };

  void publish_all(std::vector<snapshot::Instance>) override {
    std::lock_guard<std::mutex> lock(mu_);
    publish_all_calls_++;
  }
  void publish_app(std::string app_id, std::string ns, std::vector<snapshot::Instance> instances) override {
    Published p{app_id, {}};
    for (const snapshot::Instance& i : instances) p.addresses.push_back(i.address_text);
    std::sort(p.addresses.begin(), p.addresses.end());
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(ns, "");  // consul ignores namespaces, as daprd
    published_.push_back(std::move(p));
    cv_.notify_all();
  }
  void report_status(const absl::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    statuses_.push_back(status);
    cv_.notify_all();
  }

  // Waits (bounded) until the latest publish for `app` equals `want`; returns the last seen.
  std::vector<std::string> wait_for(const std::string& app, const std::vector<std::string>& want,
                                    milliseconds bound = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    std::vector<std::string> last = {"(nothing published)"};
    cv_.wait_for(lock, bound, [&] {
      for (auto it = published_.rbegin(); it != published_.rend(); ++it) {
        if (it->app == app) {
          last = it->addresses;
          return last == want;
        }
      }
      return false;
    });
    return last;
  }
  // Waits (bounded) until `n` statuses were reported.
  bool wait_statuses(size_t n, milliseconds bound = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return statuses_.size() >= n; });
  }
  size_t publishes_for(const std::string& app) {
    std::lock_guard<std::mutex> lock(mu_);
    return std::count_if(published_.begin(), published_.end(), [&](const Published& p) { return p.app == app; });
  }
  std::vector<Published> published() {
    std::lock_guard<std::mutex> lock(mu_);
    return published_;
  }
  std::vector<absl::Status> statuses() {
    std::lock_guard<std::mutex> lock(mu_);
    return statuses_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Published> published_;   // every publish_app, in order
  std::vector<absl::Status> statuses_;  // every report_status, in order
  int publish_all_calls_ = 0;          // consul never publishes a full view
};

SelfRegistration self_of(const std::string& app, int http_port) {
  SelfRegistration s;
  s.app_id = app;
  s.app_namespace = "default";
  s.address = "127.0.0.1:50002";
  s.http_port = http_port;
  s.grpc_port = 50001;
  s.internal_port = 50002;
  s.app_port = 3000;
  return s;
}

std::unique_ptr<ConsulResolver> resolver_for(const testing_support& d, const std::string& extra_yaml) {
  std::string yaml = absl::StrCat("client:\n  address: ", d.address(), "\n", extra_yaml);
  absl::StatusOr<ConsulOptions> o = parse_consul_options(yaml, [](std::string_view) { return std::string(); });
  EXPECT_TRUE(o.ok()) << o.status();
  return std::make_unique<ConsulResolver>(o.ok() ? *o : ConsulOptions{});
}

// Registers an instance of `app` directly in the double (as another sidecar would), with one
// TTL check in `status`.
void register_instance(const testing_support& d, const std::string& id, const std::string& app,
                       const std::string& address, int dapr_port, const std::string& status = "passing") {
  Json body = {{"ID", id}, {"Name", app}, {"Address", address}, {"Meta", {{"DAPR_PORT", std::to_string(dapr_port)}}},
               {"Checks", Json::array({{{"CheckID", "ttl:" + id}, {"TTL", "60s"}, {"Status", status}}})}};
  ASSERT_EQ(d.put("/v1/agent/service/register", body.dump()).status, 200);
}

Json requests_to(const testing_support& d, const std::string& path_prefix) {
  Json all = Json::parse(d.get("/_double/requests").body);
  Json out = Json::array();
  for (const Json& r : all) {
    if (absl::StartsWith(r["path"].get<std::string>(), path_prefix)) out.push_back(r);
  }
  return out;
}

class ConsulResolverDouble : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(double_.start().ok()) << "the Consul API double must start"; }
  testing_support double_;
  RecordingSink sink_;
};

TEST_F(ConsulResolverDouble, SelfRegistrationSendsDaprdsBody) {
  auto r = resolver_for(double_, "selfRegister: true\nclient_extra: ignored\n");
  ASSERT_TRUE(r->start(self_of("orders", 3500), &sink_).ok());
  Json regs = Json::parse(double_.get("/_double/registrations").body);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0], Json::parse(R"({"ID":"orders-127.0.0.1-3500","Name":"orders","Port":3000,"Address":"127.0.0.1",
      "Meta":{"DAPR_PORT":"50002"},"Check":null,"Checks":[{"CheckID":"daprHealth:orders-127.0.0.1-3500",
      "Name":"Dapr Health Status","Interval":"15s","HTTP":"http://127.0.0.1:3500/v1.0/healthz?appid=orders"}]})"));
  Json put = requests_to(double_, "/v1/agent/service/register");
  ASSERT_EQ(put.size(), 1u);
  EXPECT_EQ(put[0]["method"], "PUT");
  EXPECT_EQ(put[0]["content_type"], "application/json");
  // The agent recorded the check (critical: nothing answers on :3500 here, and new checks start critical).
  Json checks = Json::parse(double_.get("/v1/agent/checks").body);
  ASSERT_TRUE(checks.contains("daprHealth:orders-127.0.0.1-3500"));
  EXPECT_EQ(checks["daprHealth:orders-127.0.0.1-3500"]["Definition"]["HTTP"],
            "http://127.0.0.1:3500/v1.0/healthz?appid=orders");
  r->stop();
  // selfDeregister is false: still registered.
  EXPECT_TRUE(Json::parse(double_.get("/v1/agent/services").body).contains("orders-127.0.0.1-3500"));
}

TEST_F(ConsulResolverDouble, SelfDeregisterRemovesTheServiceOnStop) {
  auto r = resolver_for(double_, "selfRegister: true\nselfDeregister: true\n");
  ASSERT_TRUE(r->start(self_of("orders", 3600), &sink_).ok());
  EXPECT_TRUE(Json::parse(double_.get("/v1/agent/services").body).contains("orders-127.0.0.1-3600"));
  r->stop();
  EXPECT_EQ(Json::parse(double_.get("/_double/deregistrations").body), Json::parse(R"(["orders-127.0.0.1-3600"])"));
  Json put = requests_to(double_, "/v1/agent/service/deregister/");
  ASSERT_EQ(put.size(), 1u);
  EXPECT_EQ(put[0]["method"], "PUT");
  EXPECT_EQ(put[0]["content_type"], "");  // no body, no content type (as the Go client)
  EXPECT_FALSE(Json::parse(double_.get("/v1/agent/services").body).contains("orders-127.0.0.1-3600"));
}

TEST_F(ConsulResolverDouble, WithoutRegistrationStartChecksTheAgent) {
  auto r = resolver_for(double_, "");
  ASSERT_TRUE(r->start(self_of("orders", 3500), &sink_).ok());
  EXPECT_EQ(requests_to(double_, "/v1/agent/self").size(), 1u);
  EXPECT_TRUE(requests_to(double_, "/v1/agent/service/register").empty());
  r->stop();
}

TEST_F(ConsulResolverDouble, UnreachableAgentFailsStartNamingThePath) {
  auto r = resolver_for(double_, "selfRegister: true\n");
  double_.stop();
  absl::Status s = r->start(self_of("orders", 3500), &sink_);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.message(), absl::StrCat("failed to register consul service: consul: PUT http://",
                                                         double_.address(), "/v1/agent/service/register: ")))
      << s.message();
}

TEST_F(ConsulResolverDouble, LookupPublishesPassingInstancesOnly) {
  register_instance(double_, "b-1", "b", "10.0.0.1", 50002);
  register_instance(double_, "b-2", "b", "", 50003);  // no service address: the node's (127.0.0.1)
  register_instance(double_, "b-3", "b", "10.0.0.3", 50004, "critical");
  register_instance(double_, "b-4", "b", "10.0.0.4", 50005, "warning");
  register_instance(double_, "c-1", "c", "10.0.0.9", 50002);
  auto r = resolver_for(double_, "");
  ASSERT_TRUE(r->start(self_of("a", 3500), &sink_).ok());
  const Clock::time_point t0 = Clock::now();
  r->lookup("b", "default");
  EXPECT_EQ(sink_.wait_for("b", {"10.0.0.1:50002", "127.0.0.1:50003"}),
            (std::vector<std::string>{"10.0.0.1:50002", "127.0.0.1:50003"}));
  std::printf("consul lookup: first answer for b after %.2f ms\n",
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  Json health = requests_to(double_, "/v1/health/service/b");
  ASSERT_FALSE(health.empty());
  EXPECT_EQ(health[0]["query"], "cached=&passing=1");  // daprd's default query options
  r->lookup("nobody", "default");
  EXPECT_EQ(sink_.wait_for("nobody", {}), std::vector<std::string>{});
  r->stop();
}

TEST_F(ConsulResolverDouble, TokenGoesInTheHeader) {
  testing_support acl({"--token", "s3cret"});
  ASSERT_TRUE(acl.start().ok());
  auto denied = resolver_for(acl, "");
  absl::Status s = denied->start(self_of("a", 3500), &sink_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), absl::StrCat("failed check on consul agent: consul: GET http://", acl.address(),
                                      "/v1/agent/self: HTTP 403: Permission denied"));
  auto allowed = resolver_for(acl, "  token: s3cret\n");
  ASSERT_TRUE(allowed->start(self_of("a", 3500), &sink_).ok());
  ASSERT_EQ(acl.put("/v1/agent/service/register",
                    R"({"Name":"b","Address":"10.0.0.1","Meta":{"DAPR_PORT":"50002"}})", "s3cret").status, 200);
  allowed->lookup("b", "");
  EXPECT_EQ(sink_.wait_for("b", {"10.0.0.1:50002"}), std::vector<std::string>{"10.0.0.1:50002"});
  allowed->stop();
}

TEST_F(ConsulResolverDouble, WatchSeesAChangeAsItHappens) {
  register_instance(double_, "b-1", "b", "10.0.0.1", 50002);
  // A 60 s blocking wait: a change seen within the test's 10 s bound means the query returned early.
  auto r = resolver_for(double_, "useCache: true\nqueryOptions:\n  waitTime: 60s\nringside:\n  refreshInterval: 1h\n");
  ASSERT_TRUE(r->start(self_of("a", 3500), &sink_).ok());
  r->lookup("b", "");
  ASSERT_EQ(sink_.wait_for("b", {"10.0.0.1:50002"}), std::vector<std::string>{"10.0.0.1:50002"});
  // Wait (bounded) until the blocking query is parked in the double.
  bool blocking = false;
  for (int i = 0; i < 100 && !blocking; ++i) {
    for (const Json& q : requests_to(double_, "/v1/health/service/b")) {
      if (absl::StrContains(q["query"].get<std::string>(), "index=")) blocking = true;
    }
    if (!blocking) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(blocking) << "no blocking query (index=) was sent";
  register_instance(double_, "b-2", "b", "10.0.0.2", 50002);
  EXPECT_EQ(sink_.wait_for("b", {"10.0.0.1:50002", "10.0.0.2:50002"}),
            (std::vector<std::string>{"10.0.0.1:50002", "10.0.0.2:50002"}));
  // A check turning critical removes the instance.
  ASSERT_EQ(double_.put("/v1/agent/check/fail/ttl:b-1", "").status, 200);
  EXPECT_EQ(sink_.wait_for("b", {"10.0.0.2:50002"}), std::vector<std::string>{"10.0.0.2:50002"});
  // The blocking queries carried index and wait, and never the agent cache.
  for (const Json& q : requests_to(double_, "/v1/health/service/b")) {
    const std::string query = q["query"];
    EXPECT_FALSE(absl::StrContains(query, "cached")) << query;
    if (absl::StrContains(query, "index=")) {
      EXPECT_TRUE(absl::StrContains(query, "wait=60000ms")) << query;
    }
  }
  r->stop();
}

// Every change reaches the sink, none lost between blocking queries. Prints the time from a
// registration in the agent to the publish (a figure, not an assertion).
TEST_F(ConsulResolverDouble, WatchDeliversEveryChangeInOrder) {
  auto r = resolver_for(double_, "useCache: true\nqueryOptions:\n  waitTime: 60s\n");
  ASSERT_TRUE(r->start(self_of("a", 3500), &sink_).ok());
  r->lookup("b", "");
  ASSERT_EQ(sink_.wait_for("b", {}), std::vector<std::string>{});
  std::vector<std::string> want;
  Clock::duration total{};
  constexpr int kChanges = 20;
  for (int i = 1; i <= kChanges; ++i) {
    const std::string address = absl::StrCat("10.0.1.", i);
    want.push_back(address + ":50002");
    std::sort(want.begin(), want.end());
    const Clock::time_point t0 = Clock::now();
    register_instance(double_, absl::StrCat("b-", i), "b", address, 50002);
    ASSERT_EQ(sink_.wait_for("b", want), want) << "change " << i;
    total += Clock::now() - t0;
  }
  std::printf("consul watch: %d changes, mean registration-to-publish %.2f ms\n", kChanges,
              std::chrono::duration<double, std::milli>(total).count() / kChanges);
  r->stop();
}

TEST_F(ConsulResolverDouble, WithoutCacheAppsInUseAreQueriedAgain) {
  register_instance(double_, "b-1", "b", "10.0.0.1", 50002);
  auto r = resolver_for(double_, "ringside:\n  refreshInterval: 100ms\n");
  ASSERT_TRUE(r->start(self_of("a", 3500), &sink_).ok());
  r->lookup("b", "");
  ASSERT_EQ(sink_.wait_for("b", {"10.0.0.1:50002"}), std::vector<std::string>{"10.0.0.1:50002"});
  ASSERT_EQ(double_.put("/v1/agent/service/deregister/b-1", "").status, 200);
  EXPECT_EQ(sink_.wait_for("b", {}), std::vector<std::string>{});
  for (const Json& q : requests_to(double_, "/v1/health/service/b")) {
    EXPECT_FALSE(absl::StrContains(q["query"].get<std::string>(), "index=")) << "no blocking queries without useCache";
  }
  r->stop();
}

TEST_F(ConsulResolverDouble, AgentGoingAwayKeepsTheLastTableReportsOnceAndRecovers) {
  register_instance(double_, "b-1", "b", "10.0.0.1", 50002);
  auto r = resolver_for(double_, "useCache: true\nringside:\n  retryInitial: 20ms\n  retryMax: 100ms\n");
  ASSERT_TRUE(r->start(self_of("a", 3500), &sink_).ok());
  r->lookup("b", "");
  ASSERT_EQ(sink_.wait_for("b", {"10.0.0.1:50002"}), std::vector<std::string>{"10.0.0.1:50002"});
  const size_t publishes_before = sink_.publishes_for("b");

  double_.stop();
  ASSERT_TRUE(sink_.wait_statuses(1)) << "the outage was not reported";
  // Let the resolver retry many times (20 ms .. 100 ms back-off) during the outage.
  std::this_thread::sleep_for(milliseconds(600));
  std::vector<absl::Status> during = sink_.statuses();
  ASSERT_EQ(during.size(), 1u) << "errors must be reported once, not per retry";
  EXPECT_EQ(during[0].code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(during[0].message(), absl::StrCat("/v1/health/service/b?passing=1")))
      << during[0].message();
  EXPECT_EQ(sink_.publishes_for("b"), publishes_before) << "the last table must keep serving";
  // A lookup during the outage is answered from the last good answer.
  r->lookup("b", "");
  EXPECT_EQ(sink_.wait_for("b", {"10.0.0.1:50002"}), std::vector<std::string>{"10.0.0.1:50002"});

  ASSERT_TRUE(double_.start().ok());  // same port, empty state (a restarted dev agent)
  register_instance(double_, "b-2", "b", "10.0.0.2", 50002);
  EXPECT_EQ(sink_.wait_for("b", {"10.0.0.2:50002"}), std::vector<std::string>{"10.0.0.2:50002"});
  ASSERT_TRUE(sink_.wait_statuses(2));
  EXPECT_TRUE(sink_.statuses()[1].ok()) << "recovery clears the reported error";
  r->stop();
}

TEST_F(ConsulResolverDouble, WithoutCacheALookupDuringAnOutageIsAnsweredFromTheLastTable) {
  register_instance(double_, "b-1", "b", "10.0.0.1", 50002);
  auto r = resolver_for(double_, "ringside:\n  refreshInterval: 50ms\n  retryInitial: 10s\n");
  ASSERT_TRUE(r->start(self_of("a", 3500), &sink_).ok());
  r->lookup("b", "");
  ASSERT_EQ(sink_.wait_for("b", {"10.0.0.1:50002"}), std::vector<std::string>{"10.0.0.1:50002"});
  double_.stop();
  ASSERT_TRUE(sink_.wait_statuses(1)) << "the outage was not reported";
  const size_t before = sink_.publishes_for("b");
  r->lookup("b", "");  // answered from the last table, not after the 10 s back-off
  for (int i = 0; i < 500 && sink_.publishes_for("b") == before; ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_EQ(sink_.publishes_for("b"), before + 1);
  EXPECT_EQ(sink_.published().back().addresses, std::vector<std::string>{"10.0.0.1:50002"});
  r->stop();
}

TEST_F(ConsulResolverDouble, FirstLookupDuringAnOutageIsAnsweredEmpty) {
  auto r = resolver_for(double_, "ringside:\n  retryInitial: 20ms\n");
  ASSERT_TRUE(r->start(self_of("a", 3500), &sink_).ok());
  double_.stop();
  r->lookup("b", "");
  EXPECT_EQ(sink_.wait_for("b", {}), std::vector<std::string>{});
  ASSERT_TRUE(sink_.wait_statuses(1));
  EXPECT_FALSE(sink_.statuses()[0].ok());
  r->stop();
}

TEST_F(ConsulResolverDouble, FactoryBuildsItFromTheConfiguration) {
  config::NameResolution nr;
  nr.component = "consul";
  nr.configuration_yaml = absl::StrCat("client:\n  address: ", double_.address(), "\nselfRegister: true\n");
  absl::StatusOr<std::unique_ptr<Resolver>> r = make_resolver(nr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE((*r)->lists());
  EXPECT_FALSE((*r)->namespace_aware());
  ASSERT_TRUE((*r)->start(self_of("orders", 3700), &sink_).ok());
  EXPECT_TRUE(Json::parse(double_.get("/v1/agent/services").body).contains("orders-127.0.0.1-3700"));
  (*r)->stop();
  nr.configuration_yaml = "client: {scheme: https}\n";
  r = make_resolver(nr);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "spec.nameResolution.configuration.client.scheme: https"));
}

}  // namespace
}  // namespace ringside::resolvers::consul

// Issue 10 (app health): an unhealthy app puts our service into Consul's maintenance mode (a
// critical check, so ?passing=1 leaves it out) and a recovered one takes it out again.
namespace ringside::resolvers::consul {
namespace {

TEST_F(ConsulResolverDouble, SetServingTogglesMaintenanceMode) {
  auto r = resolver_for(double_, "selfRegister: true\nselfDeregister: true\n");
  ASSERT_TRUE(r->start(self_of("orders", 3700), &sink_).ok());
  const std::string check = "_service_maintenance:orders-127.0.0.1-3700";
  EXPECT_FALSE(Json::parse(double_.get("/v1/agent/checks").body).contains(check));
  ASSERT_TRUE(r->set_serving(false).ok());
  Json checks = Json::parse(double_.get("/v1/agent/checks").body);
  ASSERT_TRUE(checks.contains(check)) << checks.dump();
  EXPECT_EQ(checks[check]["Status"], "critical");
  Json puts = requests_to(double_, "/v1/agent/service/maintenance/");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0]["method"], "PUT");
  EXPECT_TRUE(absl::StrContains(puts[0]["query"].get<std::string>(), "enable=true")) << puts.dump();
  ASSERT_TRUE(r->set_serving(true).ok());
  EXPECT_FALSE(Json::parse(double_.get("/v1/agent/checks").body).contains(check));
  r->stop();
}

TEST_F(ConsulResolverDouble, SetServingWithoutRegistrationDoesNothing) {
  auto r = resolver_for(double_, "");
  ASSERT_TRUE(r->start(self_of("orders", 3800), &sink_).ok());
  EXPECT_TRUE(r->set_serving(false).ok());
  EXPECT_EQ(requests_to(double_, "/v1/agent/service/maintenance/").size(), 0u);
  r->stop();
}

}  // namespace
}  // namespace ringside::resolvers::consul
