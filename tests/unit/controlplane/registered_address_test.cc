#include "controlplane/resolvers/registered_address.h"

#include <gtest/gtest.h>

namespace ringside::resolvers {
namespace {

TEST(RegisteredAddressTest, PrefersHostIpThenListenAddressThenLoopback) {
  EXPECT_EQ(registered_host("10.0.0.5", "127.0.0.2"), "10.0.0.5");
  EXPECT_EQ(registered_host("", "127.0.0.2"), "127.0.0.2");
  EXPECT_EQ(registered_host("", "[::1]"), "::1");
  for (const char* wildcard : {"", "0.0.0.0", "::", "[::]"}) {
    EXPECT_EQ(registered_host("", wildcard), "127.0.0.1") << wildcard;
  }
}

TEST(RegisteredAddressTest, JoinsLikeGo) {
  EXPECT_EQ(join_host_port("127.0.0.1", 50002), "127.0.0.1:50002");
  EXPECT_EQ(join_host_port("::1", 50002), "[::1]:50002");
}

}  // namespace
}  // namespace ringside::resolvers
