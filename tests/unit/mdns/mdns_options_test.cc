#include "controlplane/resolvers/mdns/mdns_options.h"

#include <gtest/gtest.h>

namespace ringside::mdns {
namespace {

TEST(MdnsOptions, DefaultsWhenEmpty) {
  absl::StatusOr<MdnsOptions> o = parse_mdns_options("");
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->interfaces.empty());
  EXPECT_TRUE(o->host_name.empty());
}

TEST(MdnsOptions, ReadsInterfacesAndHostName) {
  absl::StatusOr<MdnsOptions> o = parse_mdns_options("interfaces: [eth0, veth1]\nhostName: node-7\n");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->interfaces, (std::vector<std::string>{"eth0", "veth1"}));
  EXPECT_EQ(o->host_name, "node-7");
  o = parse_mdns_options("interfaces: eth1\n");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->interfaces, std::vector<std::string>{"eth1"});
}

TEST(MdnsOptions, ErrorsNameThePath) {
  absl::StatusOr<MdnsOptions> o = parse_mdns_options("interfaces: {a: b}\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("spec.nameResolution.configuration.interfaces"), std::string::npos)
      << o.status();
  o = parse_mdns_options("interfaces: [eth0, [x]]\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("spec.nameResolution.configuration.interfaces[1]"), std::string::npos)
      << o.status();
  o = parse_mdns_options("hostName: \"bad name\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("spec.nameResolution.configuration.hostName"), std::string::npos)
      << o.status();
  o = parse_mdns_options("- just\n- a list\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("spec.nameResolution.configuration"), std::string::npos);
}

}  // namespace
}  // namespace ringside::mdns
