#include "controlplane/config/value_parsers.h"

#include <gtest/gtest.h>

namespace ringside::config {
namespace {

using namespace std::chrono_literals;

TEST(QuantityTest, AcceptsKubernetesSuffixes) {
  EXPECT_EQ(parse_quantity("4Mi"), 4u << 20);
  EXPECT_EQ(parse_quantity("512Ki"), 512u << 10);
  EXPECT_EQ(parse_quantity("1M"), 1000000u);
  EXPECT_EQ(parse_quantity("1k"), 1000u);
  EXPECT_EQ(parse_quantity("1048576"), 1048576u);
  EXPECT_EQ(parse_quantity("1.5Gi"), 3ull << 29);
  EXPECT_EQ(parse_quantity("1e3"), 1000u);
  EXPECT_EQ(parse_quantity("0.5"), 1u);  // rounds up like Quantity.Value()
  EXPECT_EQ(parse_quantity("0"), 0u);
}

TEST(QuantityTest, RejectsMalformed) {
  for (const char* bad : {"", "abc", "4MB", "4mi", "-1", "Mi", "1..5", "4 Mi", "99999999999999999999Ei", "1e99"}) {
    EXPECT_FALSE(parse_quantity(bad).has_value()) << bad;
  }
}

TEST(DurationTest, AcceptsGoSyntax) {
  EXPECT_EQ(parse_duration("5s"), 5s);
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("1m"), 1min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("1m30s"), 90s);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("10us"), 10us);
  EXPECT_EQ(parse_duration("0"), 0ns);
  EXPECT_EQ(parse_duration("7"), 7s);  // bare integers are seconds
}

TEST(DurationTest, RejectsMalformed) {
  for (const char* bad : {"", "abc", "5x", "-1s", "s", "1.s5", "5 s", "1d", "999999999999h"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(CpuListTest, ParsesRangesAndLists) {
  EXPECT_EQ(parse_cpu_list("0-1"), (std::vector<int>{0, 1}));
  EXPECT_EQ(parse_cpu_list("0,2,4-5"), (std::vector<int>{0, 2, 4, 5}));
  EXPECT_EQ(parse_cpu_list("3"), (std::vector<int>{3}));
}

TEST(CpuListTest, RejectsMalformed) {
  for (const char* bad : {"", ",", "a", "1-", "-1", "3-1", "0,0", "0-2,1", "1,,2", "0x1"}) {
    EXPECT_FALSE(parse_cpu_list(bad).has_value()) << bad;
  }
}

TEST(ScalarTest, PortsIntsBools) {
  EXPECT_EQ(parse_port("3500"), 3500);
  EXPECT_EQ(parse_port("0"), 0);
  EXPECT_FALSE(parse_port("65536").has_value());
  EXPECT_FALSE(parse_port("-1").has_value());
  EXPECT_FALSE(parse_port("12a").has_value());
  EXPECT_EQ(parse_int("-1"), -1);
  EXPECT_FALSE(parse_int("").has_value());
  EXPECT_FALSE(parse_int("1.0").has_value());
  EXPECT_EQ(parse_bool("TRUE"), true);
  EXPECT_EQ(parse_bool("f"), false);
  EXPECT_FALSE(parse_bool("yes").has_value());
}

}  // namespace
}  // namespace ringside::config
