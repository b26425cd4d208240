#include "controlplane/resolvers/consul/health_entries.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringside::resolvers::consul {
namespace {

using ::testing::ElementsAre;

TEST(ConsulHealthEntries, ServiceAddressElseNodeAddressWithThePortFromMeta) {
  absl::StatusOr<HealthAddresses> h = addresses_from_health(R"([
    {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"a-1","Address":"10.0.0.9","Port":3000,"Meta":{"DAPR_PORT":"50002"}},
     "Checks":[{"Status":"passing"}]},
    {"Node":{"Address":"10.0.0.2"},"Service":{"ID":"a-2","Address":"","Port":3000,"Meta":{"DAPR_PORT":"50003"}},"Checks":[]},
    {"Node":{"Address":"10.0.0.3"},"Service":{"ID":"a-3","Address":"fd00::3","Meta":{"DAPR_PORT":"50004"}}},
    {"Node":{"Address":"10.0.0.4"},"Service":{"ID":"a-4","Address":"app.example","Meta":{"DAPR_PORT":"50005"}}}
  ])", "DAPR_PORT");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_THAT(h->addresses, ElementsAre("10.0.0.2:50003", "10.0.0.9:50002", "[fd00::3]:50004", "app.example:50005"));
  EXPECT_TRUE(h->skipped.empty());
}

TEST(ConsulHealthEntries, EntriesThatCannotBeDialledAreSkippedWithAReason) {
  absl::StatusOr<HealthAddresses> h = addresses_from_health(R"([
    {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"no-meta","Port":3000}},
    {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"bad-port","Meta":{"DAPR_PORT":"http"}}},
    {"Node":{},"Service":{"ID":"no-address","Meta":{"DAPR_PORT":"1"}}},
    {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"failing","Meta":{"DAPR_PORT":"1"}},"Checks":[{"Status":"critical"}]},
    {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"other-key","Meta":{"OTHER":"7"}}}
  ])", "OTHER");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_THAT(h->addresses, ElementsAre("10.0.0.1:7"));
  EXPECT_THAT(h->skipped, ElementsAre("entry [0] (no-meta): Service.Meta has no OTHER",
                                      "entry [1] (bad-port): Service.Meta has no OTHER",
                                      "entry [2] (no-address): Service.Meta has no OTHER",
                                      "entry [3] (failing): a check is not passing"));
  h = addresses_from_health(R"([{"Node":{"Address":"10.0.0.1"},"Service":{"ID":"b","Meta":{"DAPR_PORT":"99999"}}},
                               {"Node":{},"Service":{"ID":"c","Meta":{"DAPR_PORT":"5"}}}])", "DAPR_PORT");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->addresses.empty());
  EXPECT_THAT(h->skipped, ElementsAre("entry [0] (b): Service.Meta.DAPR_PORT \"99999\" is not a port",
                                      "entry [1] (c): neither Service.Address nor Node.Address is set"));
}

TEST(ConsulHealthEntries, EmptyAndNullAreNoInstancesGarbageIsAnError) {
  EXPECT_TRUE(addresses_from_health("[]", "DAPR_PORT")->addresses.empty());
  EXPECT_TRUE(addresses_from_health("null", "DAPR_PORT")->addresses.empty());
  EXPECT_EQ(addresses_from_health("<html>", "DAPR_PORT").status().message(), "answer is not JSON");
  EXPECT_EQ(addresses_from_health("{}", "DAPR_PORT").status().message(),
            "answer is not a JSON array of service entries");
  EXPECT_EQ(addresses_from_health("[1]", "DAPR_PORT").status().message(), "entry [0] is not an object");
}

TEST(ConsulHealthEntries, DuplicatesCollapse) {
  absl::StatusOr<HealthAddresses> h = addresses_from_health(R"([
    {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"x","Meta":{"DAPR_PORT":"1"}}},
    {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"y","Meta":{"DAPR_PORT":"1"}}}])", "DAPR_PORT");
  ASSERT_TRUE(h.ok());
  EXPECT_THAT(h->addresses, ElementsAre("10.0.0.1:1"));
}

}  // namespace
}  // namespace ringside::resolvers::consul
