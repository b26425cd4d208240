#include "controlplane/control_plane.h"

#include <gtest/gtest.h>

#include <thread>

#include "controlplane/resolvers/sqlite_resolver.h"
#include "controlplane/resolvers/static_resolver.h"
#include "tests/unit/controlplane/temp_dir.h"

namespace ringside {
namespace {

using namespace std::chrono_literals;

// Waits up to 5 s for `pred`.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// Instances of `app` in the current table, read the way a shard does: as a registered reader
// that passes a quiescent point before each look (so the pointer is never held across one).
size_t count(snapshot::SnapshotRegistry& registry, snapshot::SnapshotRegistry::Reader* me, const char* app) {
  me->quiescent();
  return registry.current()->find(app, "").size();
}

std::unique_ptr<resolvers::Resolver> static_file_resolver(const std::string& file) {
  config::StaticOptions o;
  o.file = file;
  return std::make_unique<resolvers::StaticResolver>(o);
}

TEST(ControlPlaneTest, PublishesAtStartAndOnChangeOnly) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, 20ms);
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  // The first table is there as soon as start() returns.
  me->quiescent();
  ASSERT_EQ(registry.current()->find("b", "default").size(), 1u);
  EXPECT_TRUE(registry.current()->namespace_aware());
  EXPECT_EQ(cp.tables_published(), 1u);
  const uint64_t id = registry.current()->find("b", "")[0].id;

  std::this_thread::sleep_for(100ms);  // several refresh ticks, nothing changed
  EXPECT_EQ(cp.tables_published(), 1u);

  dir.write("apps.yaml", "apps:\n  - appId: b\n    address: 127.0.0.1:50002\n  - appId: b\n    address: 127.0.0.1:50003\n");
  cp.request_refresh();
  ASSERT_TRUE(eventually([&] { return count(registry, me, "b") == 2; }));
  EXPECT_EQ(cp.tables_published(), 2u);
  EXPECT_NE(registry.current()->find_by_id(id), nullptr);  // ids survive the swap
  // Once the only reader has passed a quiescent point, the old table is reclaimed.
  me->offline();
  EXPECT_TRUE(eventually([&] { return registry.retired_count() == 0; }));
  cp.stop();
  cp.stop();
}

TEST(ControlPlaneTest, RequestRefreshWakesTheThreadEarly) {
  testing::TempDir dir;
  std::string file = dir.write("apps.yaml", "apps: []\n");
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  ControlPlane cp(static_file_resolver(file), &registry, 1h);  // no periodic refresh in this test
  ASSERT_TRUE(cp.start(resolvers::SelfRegistration{}).ok());
  dir.write("apps.yaml", "apps:\n  - appId: c\n    address: 127.0.0.1:50009\n");
  cp.request_refresh();
  EXPECT_TRUE(eventually([&] { return count(registry, me, "c") == 1; }));
}

TEST(ControlPlaneTest, StartErrorsAreReturned) {
  snapshot::SnapshotRegistry registry(1);
  ControlPlane cp(static_file_resolver("/nonexistent/apps.yaml"), &registry);
  EXPECT_FALSE(cp.start(resolvers::SelfRegistration{}).ok());
  cp.stop();  // safe after a failed start
}

TEST(ControlPlaneTest, SqliteRegistersHeartbeatsAndDeregistersOnStop) {
  testing::TempDir dir;
  config::SqliteOptions o;
  o.path = dir.file("nr.db");
  o.update_interval = 2s;
  snapshot::SnapshotRegistry registry(1);
  snapshot::SnapshotRegistry::Reader* me = registry.register_reader();
  resolvers::SelfRegistration self{"a", "default", "127.0.0.1:40001", 3500, 0};
  {
    ControlPlane cp(std::make_unique<resolvers::SqliteResolver>(o), &registry, 50ms);
    ASSERT_TRUE(cp.start(self).ok());
    ASSERT_EQ(count(registry, me, "a"), 1u);
    std::this_thread::sleep_for(3500ms);  // past updateInterval: alive only thanks to heartbeats
    EXPECT_EQ(count(registry, me, "a"), 1u);
  }
  resolvers::SqliteResolver other(o);
  ASSERT_TRUE(other.start({"z", "default", "127.0.0.1:40009", 3500, 0}).ok());
  absl::StatusOr<std::vector<snapshot::Instance>> all = other.list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);  // only z: a deregistered when its ControlPlane stopped
  EXPECT_EQ((*all)[0].app_id, "z");
}

}  // namespace
}  // namespace ringside
