#include "controlplane/config/access_control_config.h"

#include "controlplane/config/configuration.h"
#include "gtest/gtest.h"

namespace ringside::config {
namespace {

absl::StatusOr<AccessControl> Parse(const std::string& section) {
  auto c = parse_configuration("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  accessControl:\n" + section);
  if (!c.ok()) return c.status();
  return c->access_control;
}

TEST(AccessControlConfigTest, AbsentOrEmptyAllowsEverything) {
  auto c = parse_configuration("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec: {}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->access_control.present);
  auto empty = Parse("    policies: []\n");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_FALSE(empty->present);
  EXPECT_EQ(empty->default_action, "allow");
}

TEST(AccessControlConfigTest, FullSectionParses) {
  auto a = Parse(
      "    defaultAction: Deny\n"
      "    trustDomain: example.org\n"
      "    policies:\n"
      "    - appId: app1\n"
      "      namespace: default\n"
      "      trustDomain: public\n"
      "      defaultAction: allow\n"
      "      operations:\n"
      "      - name: orders/*\n"
      "        httpVerb: [post, '*']\n"
      "        action: DENY\n");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->present);
  EXPECT_EQ(a->default_action, "deny");
  EXPECT_EQ(a->trust_domain, "example.org");
  ASSERT_EQ(a->policies.size(), 1u);
  const AccessControlPolicy& p = a->policies[0];
  EXPECT_EQ(p.app_id, "app1");
  EXPECT_EQ(p.app_namespace, "default");
  EXPECT_EQ(p.trust_domain, "public");
  EXPECT_EQ(p.default_action, "allow");
  ASSERT_EQ(p.operations.size(), 1u);
  EXPECT_EQ(p.operations[0].name, "/orders/*");
  EXPECT_EQ(p.operations[0].http_verbs, (std::vector<std::string>{"POST", "*"}));
  EXPECT_EQ(p.operations[0].action, "deny");
}

TEST(AccessControlConfigTest, PoliciesWithoutAGlobalDefaultDeny) {
  auto a = Parse("    policies:\n    - {appId: app1, namespace: default, trustDomain: public}\n");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->default_action, "deny");
  auto td_only = Parse("    trustDomain: example.org\n");
  ASSERT_TRUE(td_only.ok()) << td_only.status();
  EXPECT_EQ(td_only->default_action, "deny");
}

TEST(AccessControlConfigTest, ErrorsNameThePath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"    defaultAction: maybe\n", "spec.accessControl.defaultAction: \"maybe\" is not an action"},
      {"    policies:\n    - {appId: app1, trustDomain: public}\n", "spec.accessControl.policies[0].namespace: is required"},
      {"    policies:\n    - {appId: app1, namespace: default}\n", "spec.accessControl.policies[0].trustDomain: is required"},
      {"    policies:\n    - {namespace: d, trustDomain: t}\n", "spec.accessControl.policies[0].appId: is required"},
      {"    policies:\n    - {appId: a, namespace: d, trustDomain: t, operations: [{name: x, httpVerb: [FETCH], action: allow}]}\n",
       "spec.accessControl.policies[0].operations[0].httpVerb[0]: \"FETCH\" is not an HTTP verb"},
      {"    policies:\n    - {appId: a, namespace: d, trustDomain: t, operations: [{name: x}]}\n",
       "spec.accessControl.policies[0].operations[0].action: is required"},
      {"    policies:\n    - {appId: a, namespace: d, trustDomain: t, operations: [{action: allow}]}\n",
       "spec.accessControl.policies[0].operations[0].name: is required"},
      {"    policy: []\n", "spec.accessControl"},
  };
  for (const auto& [yaml, want] : cases) {
    auto a = Parse(yaml);
    ASSERT_FALSE(a.ok()) << yaml;
    EXPECT_NE(std::string(a.status().message()).find(want), std::string::npos) << a.status().message();
  }
}

}  // namespace
}  // namespace ringside::config
