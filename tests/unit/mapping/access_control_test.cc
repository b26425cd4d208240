// AccessControlList (spec §10): daprd's decision rules, operation wildcards, verbs, gRPC apps,
// and the denial text.
#include "dataplane/mapping/access_control.h"

#include <gtest/gtest.h>

namespace ringside::invoke {
namespace {

using http1::Verb;
using Rule = AccessControlList::OperationRule;

const CallerIdentity kApp1{"public", "default", "app1"};

AccessControlList HttpAcl(bool default_allow, std::string_view policy_default, std::vector<Rule> rules) {
  AccessControlList acl(default_allow, "public", /*app_is_http=*/true);
  acl.add_policy("app1", "default", "public", policy_default, rules);
  return acl;
}

TEST(AccessControl, WithoutAnIdentityTheGlobalDefaultDecides) {
  EXPECT_FALSE(HttpAcl(false, "allow", {{"/orders", {"*"}, true}}).allows(nullptr, "orders", Verb::kPost));
  EXPECT_TRUE(HttpAcl(true, "deny", {{"/orders", {"*"}, false}}).allows(nullptr, "orders", Verb::kPost));
}

TEST(AccessControl, UnknownCallersWrongTrustDomainsAndNamespacesGetTheGlobalDefault) {
  const AccessControlList acl = HttpAcl(false, "allow", {});
  EXPECT_TRUE(acl.allows(&kApp1, "anything", Verb::kGet));
  const CallerIdentity other_app{"public", "default", "app2"};
  const CallerIdentity other_ns{"public", "prod", "app1"};
  const CallerIdentity other_td{"example.org", "default", "app1"};
  for (const CallerIdentity* c : {&other_app, &other_ns, &other_td}) {
    EXPECT_FALSE(acl.allows(c, "anything", Verb::kGet)) << c->trust_domain << "/" << c->app_namespace << "/" << c->app_id;
  }
}

TEST(AccessControl, VerbsThenStarThenThePolicyDefault) {
  const AccessControlList acl = HttpAcl(true, "deny",
                                        {{"/orders", {"POST"}, true}, {"/orders", {"*"}, false},
                                         {"/status", {"GET"}, true}});
  EXPECT_TRUE(acl.allows(&kApp1, "orders", Verb::kPost));
  EXPECT_TRUE(acl.allows(&kApp1, "/orders", Verb::kPost));
  EXPECT_TRUE(acl.allows(&kApp1, "ORDERS", Verb::kPost)) << "HTTP operations compare case-insensitively";
  EXPECT_TRUE(acl.allows(&kApp1, "status", Verb::kGet));
  EXPECT_FALSE(acl.allows(&kApp1, "status", Verb::kPut)) << "no verb matched: the policy's defaultAction";
  EXPECT_FALSE(acl.allows(&kApp1, "elsewhere", Verb::kGet)) << "no operation matched: the policy's defaultAction";
  EXPECT_FALSE(acl.allows(&kApp1, "status", Verb::kNone)) << "a verb-less call: the policy's defaultAction";
}

TEST(AccessControl, StarIsOneSegmentDoubleStarTheRestAndTheMostSpecificWins) {
  const AccessControlList acl = HttpAcl(false, "deny",
                                        {{"/api/**", {"*"}, true},
                                         {"/api/*/secret", {"*"}, false},
                                         {"/api/admin/secret", {"*"}, true},
                                         {"/files/img-*.png", {"GET"}, true}});
  EXPECT_TRUE(acl.allows(&kApp1, "api/a/b/c", Verb::kGet));
  EXPECT_FALSE(acl.allows(&kApp1, "api/user/secret", Verb::kGet));
  EXPECT_TRUE(acl.allows(&kApp1, "api/admin/secret", Verb::kGet));
  EXPECT_TRUE(acl.allows(&kApp1, "files/img-1.png", Verb::kGet));
  EXPECT_FALSE(acl.allows(&kApp1, "files/img-1.png/x", Verb::kGet));
  EXPECT_FALSE(acl.allows(&kApp1, "files/doc.png", Verb::kGet));
  EXPECT_TRUE(acl.allows(&kApp1, "api//a", Verb::kGet)) << "empty segments are ignored";
}

TEST(AccessControl, GrpcAppsUseTheOperationsActionAndCaseMatters) {
  AccessControlList acl(false, "public", /*app_is_http=*/false);
  acl.add_policy("app1", "default", "public", "deny", {{"/pkg.Svc/Allowed", {}, true}, {"/pkg.Svc/*", {}, false}});
  EXPECT_TRUE(acl.allows(&kApp1, "/pkg.Svc/Allowed", Verb::kNone));
  EXPECT_FALSE(acl.allows(&kApp1, "/pkg.Svc/allowed", Verb::kNone));
  EXPECT_FALSE(acl.allows(&kApp1, "/pkg.Svc/Other", Verb::kNone));
}

TEST(AccessControl, DenialTextIsDaprds) {
  char buf[512];
  EXPECT_EQ(access_denied_text(&kApp1, "orders", Verb::kPost, buf),
            "access control policy has denied access to id: spiffe://public/ns/default/app1 operation: orders verb: POST");
  EXPECT_EQ(access_denied_text(nullptr, "orders", Verb::kNone, buf),
            "access control policy has denied access to id:  operation: orders verb: NONE");
  char tiny[16];
  EXPECT_EQ(access_denied_text(nullptr, "orders", Verb::kNone, tiny).size(), 15u);
}

}  // namespace
}  // namespace ringside::invoke
