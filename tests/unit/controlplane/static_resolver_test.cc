#include "controlplane/resolvers/static_resolver.h"

#include <gtest/gtest.h>

#include <thread>

#include "controlplane/resolvers/resolver.h"
#include "tests/unit/controlplane/temp_dir.h"

namespace ringside::resolvers {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> listed(Resolver& r) {
  absl::StatusOr<std::vector<snapshot::Instance>> all = r.list();
  EXPECT_TRUE(all.ok()) << all.status();
  std::vector<std::string> out;
  if (all.ok()) {
    for (const auto& i : *all) out.push_back(i.app_id + "/" + i.app_namespace + "@" + i.address_text);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(StaticResolverTest, ReloadsTheFileWhenItChanges) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n");
  config::NameResolution nr;
  nr.component = "static";
  nr.static_options.file = file;
  absl::StatusOr<std::unique_ptr<Resolver>> r = make_resolver(nr);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE((*r)->start(SelfRegistration{}, nullptr).ok());
  EXPECT_TRUE((*r)->namespace_aware());
  EXPECT_EQ(listed(**r), std::vector<std::string>{"b/default@127.0.0.1:50002"});

  dir.write("apps.yaml",
            "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n  - appId: c\n    namespace: prod\n"
            "    address: localhost:50003\n");
  EXPECT_EQ(listed(**r), (std::vector<std::string>{"b/default@127.0.0.1:50002", "c/prod@localhost:50003"}));

  // A broken edit is reported and the last good list kept until the file is fixed.
  dir.write("apps.yaml", "apps:\n  - appId: b\n");
  absl::StatusOr<std::vector<snapshot::Instance>> broken = (*r)->list();
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("apps[0].address: is required"), std::string::npos) << broken.status();
  EXPECT_EQ(listed(**r).size(), 2u);  // unchanged file since the error: last good list
  dir.write("apps.yaml", "apps: []\n");
  EXPECT_TRUE(listed(**r).empty());
}

TEST(StaticResolverTest, InlineAppsAndStartErrors) {
  config::StaticOptions o;
  o.apps.push_back(config::StaticApp{"b", "default", "127.0.0.1:50002", "east", 2});
  StaticResolver r(o);
  ASSERT_TRUE(r.start(SelfRegistration{}).ok());
  absl::StatusOr<std::vector<snapshot::Instance>> all = r.list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].cluster, "east");
  EXPECT_EQ((*all)[0].weight, 2u);

  config::StaticOptions missing;
  missing.file = "/nonexistent/apps.yaml";
  StaticResolver m(missing);
  EXPECT_FALSE(m.start(SelfRegistration{}).ok());
}

TEST(MakeResolverTest, RejectsUnknownComponents) {
  config::NameResolution nr;
  nr.component = "aws.cloudmap";
  absl::StatusOr<std::unique_ptr<Resolver>> r = make_resolver(nr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "spec.nameResolution.component: \"aws.cloudmap\" is not supported by ringside (sqlite, static, mdns, kubernetes, nameformat, consul, etcd)");
}

}  // namespace
}  // namespace ringside::resolvers
