// The control plane's host-name binding with the real DNS client: a static registry lists
// `b.test:50002`, make_host_resolver() points at dnsmasq, and the published table holds one
// instance per address of b.test, following DNS changes without a registry change.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "controlplane/control_plane.h"
#include "controlplane/dns/ares_host_resolver.h"
#include "controlplane/resolvers/static_resolver.h"
#include "tests/unit/controlplane/temp_dir.h"
#include "tests/unit/dns/dnsmasq_server.h"

namespace ringside {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> table_addresses(snapshot::SnapshotRegistry& registry, snapshot::SnapshotRegistry::Reader* me) {
  me->quiescent();
  std::vector<std::string> out;
  for (const snapshot::Instance& i : registry.current()->find("b", "default")) out.push_back(i.addr.to_string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(HostBindingTest, StaticHostNameIsBoundToEveryAddressAndFollowsDns) {
  auto dns = testing::DnsmasqServer::Start("127.0.0.1 b.test\n::1 b.test\n", 1);
  ASSERT_TRUE(dns.ok()) << dns.status();
  dns::DnsOptions o;
  o.nameservers = {(*dns)->nameserver()};
  o.timeout = 200ms;
  auto host_resolver = dns::make_host_resolver(o);
  ASSERT_TRUE(host_resolver.ok()) << host_resolver.status();

  testing::TempDir dir;
  config::StaticOptions so;
  so.file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: b.test:50002\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(std::make_unique<resolvers::StaticResolver>(so), &registry,
                  {.refresh_interval = 1h, .host_resolver = host_resolver->get()});
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());

  std::vector<std::string> got;
  EXPECT_TRUE(testing::WaitFor([&] { return (got = table_addresses(registry, me)).size() == 2; }, 5s));
  EXPECT_EQ(got, (std::vector<std::string>{"127.0.0.1:50002", "[::1]:50002"}));

  ASSERT_TRUE((*dns)->ReplaceHosts("127.0.0.4 b.test\n").ok());
  EXPECT_TRUE(testing::WaitFor([&] {
    got = table_addresses(registry, me);
    return got == std::vector<std::string>{"127.0.0.4:50002"};
  }, 10s)) << ::testing::PrintToString(got);
  cp.stop();
}

TEST(HostBindingTest, FactoryRejectsABadNameserver) {
  dns::DnsOptions o;
  o.nameservers = {"dns.example"};
  auto r = dns::make_host_resolver(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("dns.example"), absl::string_view::npos) << r.status();
}

}  // namespace
}  // namespace ringside
