// check_api_token / constant_time_equals: the rules of DAPR_API_TOKEN (spec §9), and the header
// rules that keep a caller's token away from apps.
#include "dataplane/mapping/api_token.h"

#include <gtest/gtest.h>

#include <string>

#include "dataplane/mapping/header_rules.h"

namespace ringside::invoke {
namespace {

TEST(ApiToken, NoConfiguredTokenAcceptsEverything) {
  const std::string_view any = "whatever";
  EXPECT_EQ(check_api_token("", nullptr), TokenCheck::kOk);
  EXPECT_EQ(check_api_token("", &any), TokenCheck::kOk);
}

TEST(ApiToken, AbsentWrongAndRightTokens) {
  const std::string_view right = "s3cret";
  const std::string_view empty = "";
  const std::string_view longer = "s3cret!";
  const std::string_view prefix = "s3cre";
  const std::string_view last_byte = "s3crex";
  const std::string_view repeated = "s3crets3cret";  // the wrap-around must not make this equal
  EXPECT_EQ(check_api_token("s3cret", nullptr), TokenCheck::kMissing);
  EXPECT_EQ(check_api_token("s3cret", &right), TokenCheck::kOk);
  for (const std::string_view* wrong : {&empty, &longer, &prefix, &last_byte, &repeated}) {
    EXPECT_EQ(check_api_token("s3cret", wrong), TokenCheck::kMismatch) << *wrong;
  }
}

TEST(ApiToken, ConstantTimeEqualsIsEquality) {
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_FALSE(constant_time_equals("", "a"));
  EXPECT_FALSE(constant_time_equals("a", ""));
  std::string bytes(256, '\0');
  for (int i = 0; i < 256; ++i) bytes[i] = static_cast<char>(i);
  EXPECT_TRUE(constant_time_equals(bytes, bytes));
  for (int i = 0; i < 256; i += 17) {
    std::string other = bytes;
    other[i] = static_cast<char>(other[i] ^ 0x80);
    EXPECT_FALSE(constant_time_equals(bytes, other)) << i;
  }
}

TEST(ApiToken, ACallersTokenIsNeverCopiedToAnApp) {
  ConnectionTokens none;
  EXPECT_EQ(classify_metadata_key("dapr-api-token", none), HeaderAction::kDrop);
  EXPECT_EQ(classify_metadata_key("Dapr-Api-Token", none), HeaderAction::kDrop);
}

}  // namespace
}  // namespace ringside::invoke
