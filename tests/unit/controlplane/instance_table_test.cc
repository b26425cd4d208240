#include "controlplane/snapshot/instance_table.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace ringside::snapshot {
namespace {

Instance inst(std::string_view app, std::string_view ns, std::string_view address, std::string_view cluster = {}) {
  absl::StatusOr<Instance> i = make_instance(app, ns, address, cluster);
  EXPECT_TRUE(i.ok()) << i.status();
  return *i;
}

TEST(InstanceTest, ParsesDialableAddresses) {
  SocketAddress a;
  ASSERT_TRUE(parse_socket_address("10.1.2.3:50002", &a));
  EXPECT_EQ(a.family, AF_INET);
  EXPECT_EQ(a.port_be, htons(50002));
  EXPECT_EQ(a.to_string(), "10.1.2.3:50002");
  ASSERT_TRUE(parse_socket_address("localhost:1", &a));
  EXPECT_EQ(a.to_string(), "127.0.0.1:1");
  ASSERT_TRUE(parse_socket_address("[::1]:50002", &a));
  EXPECT_EQ(a.family, AF_INET6);
  EXPECT_EQ(a.to_string(), "[::1]:50002");
  ASSERT_TRUE(parse_socket_address("[2001:db8::7]:9", &a));
  EXPECT_EQ(a.to_string(), "[2001:db8::7]:9");
  sockaddr_storage ss;
  EXPECT_EQ(a.to_sockaddr(&ss), sizeof(sockaddr_in6));
  for (const char* bad : {"", ":1", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3:1", "::1:5",
                          "[::1]", "[::1]5", "host.example:1", "1.2.3.4:1x", "1.2.3.4.5:1", "[zz::1]:1"}) {
    EXPECT_FALSE(parse_socket_address(bad, &a)) << bad;
  }
  // Keys: equal addresses share one, v4 and v6 never collide.
  SocketAddress v4, v6, v4b;
  ASSERT_TRUE(parse_socket_address("127.0.0.1:5", &v4));
  ASSERT_TRUE(parse_socket_address("127.0.0.1:5", &v4b));
  ASSERT_TRUE(parse_socket_address("[::ffff:127.0.0.1]:5", &v6));
  EXPECT_EQ(v4.key(), v4b.key());
  EXPECT_NE(v4.key(), v6.key());
}

TEST(InstanceTest, HostNamesWaitForDnsAndBindPerAddress) {
  absl::StatusOr<Instance> named = make_instance("a", "ns", "b-dapr.ns.svc.cluster.local:50002");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_TRUE(needs_dns(*named));
  EXPECT_EQ(named->host_name, "b-dapr.ns.svc.cluster.local");
  SocketAddress ip1, ip2;
  ASSERT_TRUE(parse_socket_address("10.0.0.1:1", &ip1));
  ASSERT_TRUE(parse_socket_address("[2001:db8::1]:1", &ip2));
  Instance b1 = with_resolved_address(*named, ip1);
  Instance b2 = with_resolved_address(*named, ip2);
  EXPECT_FALSE(needs_dns(b1));
  EXPECT_EQ(b1.addr.to_string(), "10.0.0.1:50002");  // the registered port, not the lookup's
  EXPECT_EQ(b2.addr.to_string(), "[2001:db8::1]:50002");
  EXPECT_NE(b1.id, b2.id);
  EXPECT_EQ(b1.id, with_resolved_address(*named, ip1).id);
  EXPECT_FALSE(make_instance("a", "", "[::1:5").ok());
  EXPECT_FALSE(make_instance("a", "", "no-port").ok());
  absl::StatusOr<Instance> v6 = make_instance("a", "", "[::1]:5");
  ASSERT_TRUE(v6.ok());
  EXPECT_FALSE(needs_dns(*v6));
}

TEST(InstanceTableTest, AbsentAppsAreAnsweredEmpty) {
  auto t = InstanceTable::build({inst("b", "", "127.0.0.1:2")}, false, 3,
                                {{"gone", ""}, {"b", ""}});
  EXPECT_TRUE(t->answered("b", ""));
  EXPECT_EQ(t->find("b", "").size(), 1u);  // instances win over an absent entry
  EXPECT_TRUE(t->answered("gone", ""));
  EXPECT_TRUE(t->find("gone", "").empty());
  EXPECT_FALSE(t->answered("never-asked", ""));
  auto same = InstanceTable::build({inst("b", "", "127.0.0.1:2")}, false, 4, {{"gone", ""}});
  EXPECT_TRUE(t->same_contents(*same));
  auto fewer = InstanceTable::build({inst("b", "", "127.0.0.1:2")}, false, 5);
  EXPECT_FALSE(t->same_contents(*fewer));
  auto ns = InstanceTable::build({inst("b", "x", "127.0.0.1:2")}, true, 6, {{"b", "y"}});
  EXPECT_TRUE(ns->answered("b", "y"));
  EXPECT_TRUE(ns->find("b", "y").empty());
  EXPECT_FALSE(ns->answered("b", "z"));
}

TEST(InstanceTest, IdsAreStableAndDistinguishFields) {
  EXPECT_EQ(instance_id("a", "ns", "1.2.3.4:5"), instance_id("a", "ns", "1.2.3.4:5"));
  EXPECT_NE(instance_id("a", "ns", "1.2.3.4:5"), instance_id("a", "ns", "1.2.3.4:6"));
  EXPECT_NE(instance_id("ab", "c", "x"), instance_id("a", "bc", "x"));
  // A fixed value: ids must not depend on the process (no seeded hash).
  EXPECT_EQ(instance_id("", "", ""), instance_id("", "", ""));
  EXPECT_EQ(inst("a", "", "1.2.3.4:5").id, instance_id("a", "", "1.2.3.4:5"));
}

TEST(InstanceTableTest, FindsByAppId) {
  auto t = InstanceTable::build({inst("b", "", "127.0.0.1:2"), inst("a", "", "127.0.0.1:1"), inst("b", "", "127.0.0.1:3")},
                                false, 7);
  EXPECT_EQ(t->version(), 7u);
  EXPECT_EQ(t->size(), 3u);
  auto b = t->find("b", "");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].address_text, "127.0.0.1:2");
  EXPECT_EQ(b[1].address_text, "127.0.0.1:3");
  EXPECT_EQ(t->find("a", "anything").size(), 1u);  // not namespace-aware: namespace ignored
  EXPECT_TRUE(t->find("c", "").empty());
  EXPECT_EQ(t->find_by_id(b[1].id), &b[1]);
  EXPECT_EQ(t->find_by_id(12345), nullptr);
}

TEST(InstanceTableTest, NamespaceAwareLookup) {
  auto t = InstanceTable::build({inst("b", "default", "127.0.0.1:2"), inst("b", "prod", "127.0.0.1:3")}, true, 1);
  ASSERT_EQ(t->find("b", "prod").size(), 1u);
  EXPECT_EQ(t->find("b", "prod")[0].address_text, "127.0.0.1:3");
  EXPECT_EQ(t->find("b", "default").size(), 1u);
  EXPECT_TRUE(t->find("b", "dev").empty());
  EXPECT_EQ(t->find("b", "").size(), 2u);  // empty namespace: every namespace
}

TEST(InstanceTableTest, DropsDuplicatesAndComparesContents) {
  auto t1 = InstanceTable::build({inst("a", "", "127.0.0.1:1"), inst("a", "", "127.0.0.1:1")}, false, 1);
  EXPECT_EQ(t1->size(), 1u);
  auto t2 = InstanceTable::build({inst("a", "", "127.0.0.1:1")}, false, 2);
  EXPECT_TRUE(t1->same_contents(*t2));
  auto t3 = InstanceTable::build({inst("a", "", "127.0.0.1:1", "east")}, false, 3);
  EXPECT_FALSE(t1->same_contents(*t3));
  auto t4 = InstanceTable::build({inst("a", "", "127.0.0.1:1")}, true, 4);
  EXPECT_FALSE(t1->same_contents(*t4));
  auto empty = InstanceTable::build({}, false, 0);
  EXPECT_TRUE(empty->find("a", "").empty());
}

}  // namespace
}  // namespace ringside::snapshot
