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
  uint32_t ip = 0;
  uint16_t port = 0;
  ASSERT_TRUE(parse_ipv4_host_port("10.1.2.3:50002", &ip, &port));
  EXPECT_EQ(ip, inet_addr("10.1.2.3"));
  EXPECT_EQ(port, htons(50002));
  ASSERT_TRUE(parse_ipv4_host_port("localhost:1", &ip, &port));
  EXPECT_EQ(ip, htonl(INADDR_LOOPBACK));
  for (const char* bad : {"", ":1", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3:1", "[::1]:1",
                          "host.example:1", "1.2.3.4:1x", "1.2.3.4.5:1"}) {
    EXPECT_FALSE(parse_ipv4_host_port(bad, &ip, &port)) << bad;
  }
  EXPECT_FALSE(make_instance("a", "", "[::1]:5").ok());
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
