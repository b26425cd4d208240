// dns::AresHostResolver against a real dnsmasq on 127.0.0.1: A and AAAA answers, several
// addresses, TTL expiry and background re-query, record changes, NXDOMAIN, a server that goes
// away, /etc/hosts names and one lookup in flight per name.
#include "controlplane/dns/ares_host_resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "tests/unit/dns/dnsmasq_server.h"

namespace ringside::dns {
namespace {

using namespace std::chrono_literals;
using testing::DnsmasqServer;
using testing::WaitFor;

std::vector<std::string> texts(const std::vector<snapshot::SocketAddress>& v) {
  std::vector<std::string> out;
  for (const snapshot::SocketAddress& a : v) out.push_back(a.to_string());
  return out;
}

std::unique_ptr<DnsmasqServer> start_dns(const std::string& hosts, int ttl = 1) {
  absl::StatusOr<std::unique_ptr<DnsmasqServer>> d = DnsmasqServer::Start(hosts, ttl);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : nullptr;
}

DnsOptions options_for(const DnsmasqServer& d) {
  DnsOptions o;
  o.nameservers = {d.nameserver()};
  o.timeout = 200ms;
  o.tries = 1;
  o.retry_interval = 200ms;
  o.negative_ttl = 500ms;
  return o;
}

// Records every finished lookup.
struct Answers {
  std::mutex mu;
  std::vector<std::pair<std::string, HostAnswer>> seen;
  std::atomic<int> changes{0};
  void attach(AresHostResolver* r) {
    r->set_on_change([this] { ++changes; });
    r->set_on_answer([this](const std::string& host, const HostAnswer& a) {
      std::lock_guard<std::mutex> lock(mu);
      seen.emplace_back(host, a);
    });
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size();
  }
  HostAnswer last() {
    std::lock_guard<std::mutex> lock(mu);
    return seen.empty() ? HostAnswer{} : seen.back().second;
  }
};

std::vector<std::string> wait_for_addresses(AresHostResolver* r, const std::string& host, size_t n) {
  std::vector<std::string> got;
  WaitFor([&] { return (got = texts(r->addresses(host))).size() >= n; }, 5s);
  return got;
}

TEST(AresHostResolverTest, AAndAaaaWithSeveralAddressesIpv4First) {
  auto dns = start_dns(
      "::1 multi.test\n127.0.0.3 multi.test\n127.0.0.1 multi.test\n127.0.0.2 multi.test\nfe80::1 multi.test\n");
  ASSERT_TRUE(dns);
  auto r = AresHostResolver::create(options_for(*dns));
  ASSERT_TRUE(r.ok()) << r.status();
  Answers answers;
  answers.attach(r->get());
  EXPECT_TRUE((*r)->addresses("multi.test").empty());  // first call: no answer yet, lookup starts
  std::vector<std::string> got = wait_for_addresses(r->get(), "multi.test", 5);
  EXPECT_EQ(got, (std::vector<std::string>{"127.0.0.1:0", "127.0.0.2:0", "127.0.0.3:0", "[::1]:0", "[fe80::1]:0"}));
  EXPECT_GE(answers.changes.load(), 1);
  EXPECT_TRUE(answers.last().status.ok()) << answers.last().status;
  EXPECT_EQ(dns->CountQueries("A", "multi.test"), 1);
  EXPECT_EQ(dns->CountQueries("AAAA", "multi.test"), 1);
}

TEST(AresHostResolverTest, OneLookupInFlightPerName) {
  auto dns = start_dns("127.0.0.1 once.test\n", 30);
  ASSERT_TRUE(dns);
  auto r = AresHostResolver::create(options_for(*dns));
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 200; ++i) (void)(*r)->addresses("once.test");
  ASSERT_EQ(wait_for_addresses(r->get(), "once.test", 1), std::vector<std::string>{"127.0.0.1:0"});
  for (int i = 0; i < 200; ++i) (void)(*r)->addresses("once.test");  // cached within the TTL
  EXPECT_EQ((*r)->lookups_started(), 1u);
  EXPECT_EQ(dns->CountQueries("A", "once.test"), 1) << dns->Log();
}

TEST(AresHostResolverTest, ReQueriesInTheBackgroundWhenTheTtlRunsOut) {
  auto dns = start_dns("127.0.0.1 ttl.test\n", 1);
  ASSERT_TRUE(dns);
  auto r = AresHostResolver::create(options_for(*dns));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(wait_for_addresses(r->get(), "ttl.test", 1).size(), 1u);
  // Nobody asks again: the refresh is the resolver's own.
  EXPECT_TRUE(WaitFor([&] { return dns->CountQueries("A", "ttl.test") >= 3; }, 10s)) << dns->Log();
  EXPECT_GE((*r)->lookups_started(), 3u);
  EXPECT_EQ(texts((*r)->addresses("ttl.test")), std::vector<std::string>{"127.0.0.1:0"});
}

TEST(AresHostResolverTest, PicksUpAChangedRecordAfterItsTtl) {
  auto dns = start_dns("127.0.0.1 change.test\n127.0.0.2 change.test\n", 1);
  ASSERT_TRUE(dns);
  auto r = AresHostResolver::create(options_for(*dns));
  ASSERT_TRUE(r.ok());
  Answers answers;
  answers.attach(r->get());
  ASSERT_EQ(wait_for_addresses(r->get(), "change.test", 2).size(), 2u);
  const int changes_before = answers.changes.load();
  ASSERT_TRUE(dns->ReplaceHosts("127.0.0.7 change.test\n::1 change.test\n").ok());
  std::vector<std::string> got;
  EXPECT_TRUE(WaitFor([&] {
    got = texts((*r)->addresses("change.test"));
    return got == std::vector<std::string>{"127.0.0.7:0", "[::1]:0"};
  }, 10s)) << ::testing::PrintToString(got);
  EXPECT_GT(answers.changes.load(), changes_before);
}

TEST(AresHostResolverTest, NxdomainIsNotFoundAndCachedForTheNegativeTtl) {
  auto dns = start_dns("127.0.0.1 other.test\n", 1);
  ASSERT_TRUE(dns);
  auto r = AresHostResolver::create(options_for(*dns));
  ASSERT_TRUE(r.ok());
  Answers answers;
  answers.attach(r->get());
  (void)(*r)->addresses("missing.test");
  ASSERT_TRUE(WaitFor([&] { return answers.count() >= 1; }, 5s));
  HostAnswer a = answers.last();
  EXPECT_TRUE(absl::IsNotFound(a.status)) << a.status;
  EXPECT_TRUE(a.addresses.empty());
  HostAnswer cached;
  EXPECT_TRUE((*r)->cached("missing.test", &cached));
  EXPECT_TRUE(absl::IsNotFound(cached.status));
  // Negative answers are not refreshed in the background.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(dns->CountQueries("A", "missing.test"), 1) << dns->Log();
}

TEST(AresHostResolverTest, ServerDownKeepsTheLastAnswerUntilMaxStale) {
  auto dns = start_dns("127.0.0.1 down.test\n", 1);
  ASSERT_TRUE(dns);
  DnsOptions o = options_for(*dns);
  o.max_stale = 2s;
  auto r = AresHostResolver::create(o);
  ASSERT_TRUE(r.ok());
  Answers answers;
  answers.attach(r->get());
  ASSERT_EQ(wait_for_addresses(r->get(), "down.test", 1), std::vector<std::string>{"127.0.0.1:0"});
  dns->Kill();
  // The refresh after the TTL fails: reported, and the last answer keeps serving.
  ASSERT_TRUE(WaitFor([&] { return absl::IsUnavailable(answers.last().status); }, 5s)) << answers.last().status;
  EXPECT_EQ(texts(answers.last().addresses), std::vector<std::string>{"127.0.0.1:0"});
  EXPECT_EQ(texts((*r)->addresses("down.test")), std::vector<std::string>{"127.0.0.1:0"});
  // Past TTL + max_stale the answer is dropped.
  EXPECT_TRUE(WaitFor([&] { return (*r)->addresses("down.test").empty(); }, 8s));
  // The server comes back: the name resolves again.
  const absl::Status restarted = dns->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_EQ(wait_for_addresses(r->get(), "down.test", 1), std::vector<std::string>{"127.0.0.1:0"});
}

TEST(AresHostResolverTest, EtcHostsNamesResolveWithoutDns) {
  auto dns = start_dns("127.0.0.9 localhost\n", 1);  // would be wrong: /etc/hosts comes first
  ASSERT_TRUE(dns);
  auto r = AresHostResolver::create(options_for(*dns));
  ASSERT_TRUE(r.ok());
  std::vector<std::string> got = wait_for_addresses(r->get(), "localhost", 1);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), "127.0.0.1:0");
  // Only what /etc/hosts lists: 127.0.0.1 and possibly ::1 (never an IPv4-mapped copy).
  for (const std::string& a : got) EXPECT_TRUE(a == "127.0.0.1:0" || a == "[::1]:0") << a;
  EXPECT_EQ((*r)->lookups_started(), 0u);
  EXPECT_EQ(dns->CountQueries("A", "localhost"), 0);
}

TEST(AresHostResolverTest, NoAnswerFromAnUnusedPortIsAFailureNotAnEmptyAnswer) {
  // A port nothing listens on (a server we stopped).
  auto dns = start_dns("127.0.0.1 x.test\n", 1);
  ASSERT_TRUE(dns);
  DnsOptions o = options_for(*dns);
  dns->Kill();
  auto r = AresHostResolver::create(o);
  ASSERT_TRUE(r.ok());
  Answers answers;
  answers.attach(r->get());
  (void)(*r)->addresses("x.test");
  ASSERT_TRUE(WaitFor([&] { return answers.count() >= 1; }, 5s));
  EXPECT_TRUE(absl::IsUnavailable(answers.last().status)) << answers.last().status;
  EXPECT_NE(answers.last().status.message().find("x.test"), absl::string_view::npos);
}

TEST(DnsOptionsTest, NameserversAndErrorsNameThePath) {
  auto ok = parse_dns_options(YAML::Load("nameservers: ['127.0.0.1:5353', '10.0.0.1', '[::1]:53', '::1']\n"
                                         "dnsTimeout: 250ms\ndnsTries: 3\nmaxStale: 1m\nnegativeTtl: 3s\n"),
                              "spec.nameResolution.configuration");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->nameservers.size(), 4u);
  EXPECT_EQ(ok->timeout, 250ms);
  EXPECT_EQ(ok->tries, 3);
  EXPECT_EQ(ok->max_stale, std::chrono::minutes(1));
  EXPECT_EQ(ok->negative_ttl, 3s);
  auto port = parse_nameserver("127.0.0.1:5353");
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(port->port, 5353);
  EXPECT_EQ(parse_nameserver("[::1]")->port, 53);

  struct Bad {
    const char* yaml;
    const char* path;
  } bad[] = {
      {"nameservers: '127.0.0.1'", "spec.nameResolution.configuration.nameservers: must be a list"},
      {"nameservers: ['127.0.0.1', 'dns.example']", "spec.nameResolution.configuration.nameservers[1]: \"dns.example\""},
      {"nameservers: ['127.0.0.1:0']", "spec.nameResolution.configuration.nameservers[0]: "},
      {"nameservers: ['[127.0.0.1]:53']", "spec.nameResolution.configuration.nameservers[0]: "},
      {"dnsTimeout: soon", "spec.nameResolution.configuration.dnsTimeout: \"soon\" is not a duration"},
      {"dnsTries: 0", "spec.nameResolution.configuration.dnsTries: "},
      {"negativeTtl: 1ms", "spec.nameResolution.configuration.negativeTtl: "},
  };
  for (const Bad& b : bad) {
    auto r = parse_dns_options(YAML::Load(b.yaml), "spec.nameResolution.configuration");
    ASSERT_FALSE(r.ok()) << b.yaml;
    EXPECT_EQ(std::string(r.status().message()).rfind(b.path, 0), 0u) << r.status();
  }
}

}  // namespace
}  // namespace ringside::dns
