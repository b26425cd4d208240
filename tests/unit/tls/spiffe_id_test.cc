#include "dataplane/tls/spiffe_id.h"

#include <gtest/gtest.h>

#include <string>

namespace ringside::tls {
namespace {

TEST(SpiffeIdTest, DaprShapeParses) {
  SpiffeId id;
  ASSERT_TRUE(parse_spiffe_id("spiffe://public/ns/default/order-processor", &id));
  EXPECT_EQ(id.trust_domain, "public");
  EXPECT_EQ(id.app_namespace, "default");
  EXPECT_EQ(id.app_id, "order-processor");
  EXPECT_TRUE(names_app(id, "default", "order-processor"));
  EXPECT_FALSE(names_app(id, "prod", "order-processor"));
  EXPECT_FALSE(names_app(id, "default", "order"));
}

TEST(SpiffeIdTest, AnythingElseIsRefusedAndLeavesTheOutputAlone) {
  for (const char* bad : {"", "spiffe://", "spiffe://public", "spiffe://public/", "spiffe://public/ns/default",
                          "spiffe://public/ns/default/", "spiffe://public/ns//app", "spiffe:///ns/default/app",
                          "spiffe://public/nss/default/app", "spiffe://public/ns/default/app/extra",
                          "SPIFFE://public/ns/default/app", "https://public/ns/default/app",
                          "spiffe://public/ns/default/a b", "spiffe://public/ns/default/a\nb",
                          "spiffe://public/ns/def\x7f/app", "spiffe://pub\x80lic/ns/default/app"}) {
    SpiffeId id{"unchanged", "unchanged", "unchanged"};
    EXPECT_FALSE(parse_spiffe_id(bad, &id)) << bad;
    EXPECT_EQ(id.app_id, "unchanged") << bad;
  }
  // An embedded NUL (a certificate's IA5String may carry one) is not an identity either.
  SpiffeId id;
  EXPECT_FALSE(parse_spiffe_id(std::string("spiffe://public/ns/default/a\0b", 30), &id));
}

}  // namespace
}  // namespace ringside::tls
