#include "controlplane/resolvers/mdns/address_cache.h"

#include <gtest/gtest.h>

namespace ringside::mdns {
namespace {

using Clock = AddressCache::Clock;

TEST(AddressCache, PrefersIpv4AndKeepsFirstSightingOrder) {
  AddressCache c;
  const Clock::time_point t0 = Clock::now();
  c.add("a", "[2001:db8::1]:5", true, t0);
  EXPECT_EQ(c.current("a"), std::vector<std::string>{"[2001:db8::1]:5"});
  c.add("a", "198.51.100.2:5", false, t0);
  c.add("a", "198.51.100.1:5", false, t0);
  c.add("a", "198.51.100.2:5", false, t0);  // refresh, not a duplicate
  EXPECT_EQ(c.current("a"), (std::vector<std::string>{"198.51.100.2:5", "198.51.100.1:5"}));
  EXPECT_TRUE(c.current("b").empty());
}

TEST(AddressCache, ExpiresSixtySecondsAfterLastSighting) {
  AddressCache c;
  const Clock::time_point t0 = Clock::now();
  c.add("a", "198.51.100.1:5", false, t0);
  c.add("a", "198.51.100.2:5", false, t0 + std::chrono::seconds(30));
  EXPECT_TRUE(c.expire(t0 + std::chrono::seconds(59)).empty());
  EXPECT_EQ(c.expire(t0 + std::chrono::seconds(60)), std::vector<std::string>{"a"});
  EXPECT_EQ(c.current("a"), std::vector<std::string>{"198.51.100.2:5"});
  c.expire(t0 + std::chrono::seconds(90));
  EXPECT_TRUE(c.current("a").empty());
  EXPECT_TRUE(c.knows("a")) << "still refreshed periodically, as daprd does";
}

TEST(AddressCache, RemoveDropsAtOnce) {
  AddressCache c;
  c.add("a", "198.51.100.1:5", false, Clock::now());
  c.remove("a", "198.51.100.1:5");
  EXPECT_TRUE(c.current("a").empty());
}

}  // namespace
}  // namespace ringside::mdns
