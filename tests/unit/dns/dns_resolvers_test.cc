// The kubernetes and nameformat resolvers end to end against a real dnsmasq: names built from
// app id, namespace, cluster domain, template or format; every A/AAAA address published as one
// instance; NXDOMAIN published as none; changes after the TTL published without a new lookup;
// a DNS server that goes away keeps the last answer.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/resolvers/kubernetes/kubernetes_resolver.h"
#include "controlplane/resolvers/nameformat/nameformat_resolver.h"
#include "controlplane/resolvers/resolver.h"
#include "tests/unit/dns/dnsmasq_server.h"
#include "tests/unit/dns/recording_sink.h"

namespace ringside::resolvers {
namespace {

using namespace std::chrono_literals;
using testing::addresses_of;
using testing::DnsmasqServer;
using testing::RecordingSink;
using testing::WaitFor;

constexpr int kOurInternalPort = 50002;

SelfRegistration self() {
  SelfRegistration s;
  s.app_id = "a";
  s.app_namespace = "default";
  s.internal_port = kOurInternalPort;
  s.address = "127.0.0.1:50002";
  return s;
}

std::unique_ptr<DnsmasqServer> start_dns(const std::string& hosts, int ttl = 1) {
  absl::StatusOr<std::unique_ptr<DnsmasqServer>> d = DnsmasqServer::Start(hosts, ttl);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : nullptr;
}

// spec.nameResolution for `component` with `extra` YAML lines and our nameserver.
config::NameResolution nr(const std::string& component, const DnsmasqServer& dns, const std::string& extra = "") {
  config::NameResolution n;
  n.component = component;
  n.configuration_yaml = "nameservers: ['" + dns.nameserver() + "']\ndnsTimeout: 200ms\ndnsTries: 1\n" + extra;
  return n;
}

std::unique_ptr<Resolver> started(const config::NameResolution& cfg, RecordingSink* sink) {
  absl::StatusOr<std::unique_ptr<Resolver>> r = make_resolver(cfg);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return nullptr;
  absl::Status s = (*r)->start(self(), sink);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_FALSE((*r)->lists());
  return *std::move(r);
}

// Waits for the n-th publish_app call and returns it.
RecordingSink::Published nth_publish(RecordingSink* sink, size_t n) {
  EXPECT_TRUE(WaitFor([&] { return sink->app_count() >= n; }, 5s)) << "publish #" << n << " never came";
  std::vector<RecordingSink::Published> all = sink->apps();
  return all.size() >= n ? all[n - 1] : RecordingSink::Published{};
}

TEST(KubernetesResolverTest, PublishesEveryAddressOfTheServiceNameWithOurInternalPort) {
  auto dns = start_dns(
      "127.0.0.1 b-dapr.default.svc.cluster.local\n127.0.0.2 b-dapr.default.svc.cluster.local\n"
      "::1 b-dapr.default.svc.cluster.local\n127.0.0.5 b-dapr.prod.svc.cluster.local\n");
  ASSERT_TRUE(dns);
  RecordingSink sink;
  auto r = started(nr("kubernetes", *dns), &sink);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->namespace_aware());
  r->lookup("b", "default");
  RecordingSink::Published p = nth_publish(&sink, 1);
  EXPECT_EQ(p.app_id, "b");
  EXPECT_EQ(p.ns, "default");
  EXPECT_EQ(addresses_of(p.instances),
            (std::vector<std::string>{"127.0.0.1:50002", "127.0.0.2:50002", "[::1]:50002"}));
  for (const snapshot::Instance& i : p.instances) {
    EXPECT_EQ(i.app_namespace, "default");
    EXPECT_TRUE(i.addr.dialable());
    EXPECT_TRUE(i.host_name.empty());
    EXPECT_EQ(i.id, snapshot::instance_id("b", "default", i.address_text));  // stable across answers
  }
  // Another namespace is another name.
  r->lookup("b", "prod");
  p = nth_publish(&sink, 2);
  EXPECT_EQ(p.ns, "prod");
  EXPECT_EQ(addresses_of(p.instances), std::vector<std::string>{"127.0.0.5:50002"});
  EXPECT_EQ(dns->CountQueries("A", "b-dapr.prod.svc.cluster.local"), 1);
  r->stop();
}

TEST(KubernetesResolverTest, NxdomainPublishesNone) {
  auto dns = start_dns("127.0.0.1 b-dapr.default.svc.cluster.local\n");
  ASSERT_TRUE(dns);
  RecordingSink sink;
  auto r = started(nr("kubernetes", *dns), &sink);
  ASSERT_TRUE(r);
  r->lookup("nobody", "default");
  RecordingSink::Published p = nth_publish(&sink, 1);
  EXPECT_EQ(p.app_id, "nobody");
  EXPECT_TRUE(p.instances.empty());
  EXPECT_EQ(dns->CountQueries("A", "nobody-dapr.default.svc.cluster.local"), 1) << dns->Log();
}

TEST(KubernetesResolverTest, RecordChangeAfterTheTtlIsPublishedWithoutANewLookup) {
  auto dns = start_dns("127.0.0.1 b-dapr.default.svc.cluster.local\n", 1);
  ASSERT_TRUE(dns);
  RecordingSink sink;
  auto r = started(nr("kubernetes", *dns), &sink);
  ASSERT_TRUE(r);
  r->lookup("b", "default");
  ASSERT_EQ(addresses_of(nth_publish(&sink, 1).instances), std::vector<std::string>{"127.0.0.1:50002"});
  // Unchanged refreshes publish nothing new.
  ASSERT_TRUE(WaitFor([&] { return dns->CountQueries("A", "b-dapr.default.svc.cluster.local") >= 2; }, 5s));
  EXPECT_EQ(sink.app_count(), 1u);
  ASSERT_TRUE(dns->ReplaceHosts("127.0.0.3 b-dapr.default.svc.cluster.local\n127.0.0.4 b-dapr.default.svc.cluster.local\n").ok());
  RecordingSink::Published p = nth_publish(&sink, 2);
  EXPECT_EQ(addresses_of(p.instances), (std::vector<std::string>{"127.0.0.3:50002", "127.0.0.4:50002"}));
  // The Service goes away: published as none.
  ASSERT_TRUE(dns->ReplaceHosts("127.0.0.1 other.test\n").ok());
  p = nth_publish(&sink, 3);
  EXPECT_TRUE(p.instances.empty());
}

TEST(KubernetesResolverTest, ServerDownKeepsTheLastAnswerAndReportsIt) {
  auto dns = start_dns("127.0.0.1 b-dapr.default.svc.cluster.local\n", 1);
  ASSERT_TRUE(dns);
  RecordingSink sink;
  auto r = started(nr("kubernetes", *dns, "maxStale: 1h\n"), &sink);
  ASSERT_TRUE(r);
  r->lookup("b", "default");
  ASSERT_EQ(addresses_of(nth_publish(&sink, 1).instances), std::vector<std::string>{"127.0.0.1:50002"});
  dns->Kill();
  auto failed = [&] {
    for (const absl::Status& s : sink.statuses())
      if (!s.ok()) return true;
    return false;
  };
  ASSERT_TRUE(WaitFor(failed, 5s));
  std::vector<absl::Status> st = sink.statuses();
  std::string text;
  for (const absl::Status& s : st) if (!s.ok()) text = std::string(s.message());
  EXPECT_NE(text.find("kubernetes: dns: b-dapr.default.svc.cluster.local.: lookup failed"), std::string::npos) << text;
  EXPECT_NE(text.find("keeping the last answer"), std::string::npos) << text;
  std::this_thread::sleep_for(1500ms);  // more failed refreshes
  EXPECT_EQ(sink.app_count(), 1u);      // nothing replaced the last answer
  // Back up: the status clears.
  const absl::Status restarted = dns->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_TRUE(WaitFor([&] { return sink.statuses().back().ok(); }, 5s));
  EXPECT_EQ(sink.app_count(), 1u);
}

TEST(KubernetesResolverTest, ClusterDomainAndTemplate) {
  auto dns = start_dns(
      "127.0.0.6 b-dapr.default.svc.corp.test\n127.0.0.7 b.default.apps.test\n");
  ASSERT_TRUE(dns);
  {
    RecordingSink sink;
    auto r = started(nr("kubernetes", *dns, "clusterDomain: corp.test\n"), &sink);
    ASSERT_TRUE(r);
    r->lookup("b", "default");
    EXPECT_EQ(addresses_of(nth_publish(&sink, 1).instances), std::vector<std::string>{"127.0.0.6:50002"});
  }
  {
    RecordingSink sink;
    auto r = started(nr("kubernetes", *dns, "template: '{{.ID}}.{{ .Namespace }}.apps.test:7000'\n"), &sink);
    ASSERT_TRUE(r);
    r->lookup("b", "");  // no namespace: ours
    RecordingSink::Published p = nth_publish(&sink, 1);
    EXPECT_EQ(p.ns, "");
    EXPECT_EQ(addresses_of(p.instances), std::vector<std::string>{"127.0.0.7:7000"});
    EXPECT_EQ(p.instances.at(0).app_namespace, "default");
  }
  {
    // A template that renders an IP literal needs no DNS.
    RecordingSink sink;
    auto r = started(nr("kubernetes", *dns, "template: '127.0.0.1:{{.Port}}'\n"), &sink);
    ASSERT_TRUE(r);
    r->lookup("b", "default");
    EXPECT_EQ(addresses_of(nth_publish(&sink, 1).instances), std::vector<std::string>{"127.0.0.1:50002"});
  }
}

TEST(KubernetesResolverTest, BadOptionsNameThePath) {
  struct Bad {
    const char* yaml;
    const char* message;
  } bad[] = {
      {"template: '{{.Foo}}.svc'", "spec.nameResolution.configuration.template: {{.Foo}} at offset 0 is not supported"},
      {"template: 'x-{{.ID | printf}}'", "spec.nameResolution.configuration.template: {{.ID | printf}} at offset 2"},
      {"template: '{{.ID'", "spec.nameResolution.configuration.template: unclosed action"},
      {"template: '{{- .ID}}'", "spec.nameResolution.configuration.template: {{- .ID}} at offset 0: trim markers"},
      {"template: [a]", "spec.nameResolution.configuration.template: must be a single value"},
      {"clusterDomain: 'bad domain'", "spec.nameResolution.configuration.clusterDomain: \"bad domain\" is not a DNS domain"},
      {"nameservers: ['nope']", "spec.nameResolution.configuration.nameservers[0]: \"nope\""},
      {"[1, 2]", "spec.nameResolution.configuration: must be a map"},
  };
  for (const Bad& b : bad) {
    config::NameResolution n;
    n.component = "kubernetes";
    n.configuration_yaml = b.yaml;
    auto r = make_resolver(n);
    ASSERT_FALSE(r.ok()) << b.yaml;
    EXPECT_EQ(std::string(r.status().message()).rfind(b.message, 0), 0u) << r.status();
  }
}

TEST(NameformatResolverTest, FormatWithAndWithoutPortIgnoresNamespaces) {
  auto dns = start_dns("127.0.0.8 svc-b.apps.test\n::1 svc-b.apps.test\n127.0.0.9 b.ported.test\n");
  ASSERT_TRUE(dns);
  {
    RecordingSink sink;
    auto r = started(nr("nameformat", *dns, "format: 'svc-{appid}.apps.test'\n"), &sink);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->namespace_aware());
    r->lookup("b", "prod");
    RecordingSink::Published p = nth_publish(&sink, 1);
    EXPECT_EQ(addresses_of(p.instances), (std::vector<std::string>{"127.0.0.8:50002", "[::1]:50002"}));
    EXPECT_EQ(p.instances.at(0).app_namespace, "");
    r->lookup("missing", "prod");
    EXPECT_TRUE(nth_publish(&sink, 2).instances.empty());
  }
  {
    RecordingSink sink;
    auto r = started(nr("nameformat", *dns, "format: '{appid}.ported.test:6000'\n"), &sink);
    ASSERT_TRUE(r);
    r->lookup("b", "default");
    EXPECT_EQ(addresses_of(nth_publish(&sink, 1).instances), std::vector<std::string>{"127.0.0.9:6000"});
  }
}

TEST(NameformatResolverTest, BadOptionsNameThePath) {
  struct Bad {
    const char* yaml;
    const char* message;
  } bad[] = {
      {"", "spec.nameResolution.configuration.format: is required"},
      {"format: ''", "spec.nameResolution.configuration.format: is required"},
      {"format: 'fixed.example'", "spec.nameResolution.configuration.format: \"fixed.example\" must contain {appid}"},
      {"format: '{appid}.x:port'", "spec.nameResolution.configuration.format: with {appid}=app gives"},
      {"format: '{appid} x'", "spec.nameResolution.configuration.format: with {appid}=app gives"},
      {"format: {a: b}", "spec.nameResolution.configuration.format: must be a single value"},
  };
  for (const Bad& b : bad) {
    config::NameResolution n;
    n.component = "nameformat";
    n.configuration_yaml = b.yaml;
    auto r = make_resolver(n);
    ASSERT_FALSE(r.ok()) << b.yaml;
    EXPECT_EQ(std::string(r.status().message()).rfind(b.message, 0), 0u) << r.status();
  }
}

}  // namespace
}  // namespace ringside::resolvers
