// The kubernetes and nameformat resolvers in real ringsided processes, with a real DNS server
// (dnsmasq on 127.0.0.1) answering for the names they build.
//
// Kubernetes gives every pod its own IP and the same internal port; loopback has many IPs, so
// the test does the same: a listens on 127.0.0.1:P, two instances of app b on 127.0.0.2:P and
// 127.0.0.3:P, and `b-dapr.default.svc.cluster.local` has both addresses. a uses the default
// name and its own internal port P, exactly as in a cluster.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"
#include "tests/unit/dns/dnsmasq_server.h"

namespace ringside::e2e {
namespace {

constexpr std::string_view kServed = "ringside_calllocal_served_total";
constexpr char kServiceName[] = "b-dapr.default.svc.cluster.local";

double served(const Sidecar& s) { return ReadMetric(s.ports.metrics, kServed).value_or(-1); }

class DnsResolversTest : public ::testing::Test {
 protected:
  // Starts the echo app, b on 127.0.0.2:P and 127.0.0.3:P, and dnsmasq with `hosts`.
  void SetUp() override {
    auto app = StartEchoApp(dir_, &app_port_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = *std::move(app);
    internal_port_ = PickFreePort();
    for (const char* ip : {"127.0.0.2", "127.0.0.3"}) {
      auto b = StartSidecar({.app_id = "b", .app_port = app_port_, .nr_db = dir_.File(absl::StrCat("b-", ip, ".db")),
                             .extra_args = {"--dapr-internal-grpc-listen-address", ip}},
                            dir_, {.internal = internal_port_});
      ASSERT_TRUE(b.ok()) << b.status();
      b_.push_back(*std::move(b));
    }
  }

  // dnsmasq answering `hosts` with records of `ttl_seconds` (a's resolver re-queries a name in
  // the background once its TTL runs out).
  void StartDns(const std::string& hosts, int ttl_seconds = 1) {
    auto dns = testing::DnsmasqServer::Start(hosts, ttl_seconds);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_ = *std::move(dns);
  }

  // Sidecar a on 127.0.0.1:P with `component` and its `configuration` lines (indented 6).
  void StartCaller(const std::string& component, const std::string& configuration) {
    const std::string config = dir_.File("a.yaml");
    std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: a}\n"
                             "spec:\n  nameResolution:\n    component: " << component << "\n    configuration:\n"
                          << "      nameservers: ['" << dns_->nameserver() << "']\n" << configuration;
    auto a = StartSidecar({.app_id = "a", .nr_db = dir_.File("a.db"),
                           .extra_args = {"--config", config, "--dapr-internal-grpc-listen-address", "127.0.0.1"}},
                          dir_, {.internal = internal_port_});
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = *std::move(a);
  }

  // `n` calls to b through a; each must answer 200 with its body echoed.
  void CallB(int n) {
    for (int i = 0; i < n; ++i) {
      auto r = Invoke(a_->ports.http, "POST", "b", "echo", absl::StrCat("call ", i));
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->status(), 200) << r->body << "\n" << a_->process->LogTail();
      ASSERT_EQ(r->body, absl::StrCat("call ", i));
    }
  }

  TempDir dir_;
  uint16_t app_port_ = 0;                              // the echo app behind both b sidecars
  std::unique_ptr<ChildProcess> app_;                  // the echo app
  uint16_t internal_port_ = 0;                         // P: every sidecar's internal port
  std::vector<Sidecar> b_;                             // b on 127.0.0.2 and 127.0.0.3
  std::unique_ptr<testing::DnsmasqServer> dns_;        // the DNS server
  std::optional<Sidecar> a_;                           // the caller
};

TEST_F(DnsResolversTest, KubernetesServiceNameReachesEveryAddressAndFollowsDnsChanges) {
  ASSERT_NO_FATAL_FAILURE(StartDns(absl::StrCat("127.0.0.2 ", kServiceName, "\n127.0.0.3 ", kServiceName, "\n")));
  ASSERT_NO_FATAL_FAILURE(StartCaller("kubernetes", ""));
  // Both addresses of the Service name are instances: round robin reaches both sidecars.
  ASSERT_NO_FATAL_FAILURE(CallB(10));
  EXPECT_GE(served(b_[0]), 1) << a_->process->LogTail();
  EXPECT_GE(served(b_[1]), 1);
  EXPECT_EQ(served(b_[0]) + served(b_[1]), 10);
  EXPECT_GE(dns_->CountQueries("A", kServiceName), 1);

  // The Service loses 127.0.0.2: after the TTL (1 s) every call goes to 127.0.0.3, without a
  // restart and without a call failing on the way.
  ASSERT_TRUE(dns_->ReplaceHosts(absl::StrCat("127.0.0.3 ", kServiceName, "\n")).ok());
  bool only_second = false;
  for (int round = 0; round < 40 && !only_second; ++round) {
    const double first_before = served(b_[0]);
    ASSERT_NO_FATAL_FAILURE(CallB(6));
    only_second = served(b_[0]) == first_before;
    if (!only_second) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(only_second) << "127.0.0.2 still called long after its record went away";

  // An app id without a Service: NXDOMAIN, answered at once as no host found.
  auto r = Invoke(a_->ports.http, "POST", "nobody", "echo", "x");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500);
  EXPECT_NE(r->body.find("no host found"), std::string::npos) << r->body;
  EXPECT_EQ(dns_->CountQueries("A", "nobody-dapr.default.svc.cluster.local"), 1);

  // The DNS server goes away: the last answer keeps serving past its TTL.
  dns_->Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const double second_before = served(b_[1]);
  ASSERT_NO_FATAL_FAILURE(CallB(4));
  EXPECT_EQ(served(b_[1]), second_before + 4);
}

TEST_F(DnsResolversTest, NameformatWithAPortInTheFormat) {
  // Only 127.0.0.3 listens on P; the format names its own port. A record TTL of 60 s: with 1 s,
  // a's resolver re-queries in the background once a second, so the single query counted below
  // held only when the calls and reads took under a second (not a given on a loaded machine).
  ASSERT_NO_FATAL_FAILURE(StartDns("127.0.0.3 b.apps.test\n", 60));
  ASSERT_NO_FATAL_FAILURE(StartCaller("nameformat", absl::StrCat("      format: '{appid}.apps.test:", internal_port_, "'\n")));
  ASSERT_NO_FATAL_FAILURE(CallB(3));
  EXPECT_EQ(served(b_[1]), 3);
  EXPECT_EQ(served(b_[0]), 0);
  EXPECT_EQ(dns_->CountQueries("A", "b.apps.test"), 1);
}

}  // namespace
}  // namespace ringside::e2e
