// Issue 10: Resolver::set_serving, the registry side of app health. SQLite deletes our row and
// writes it again; etcd (a real etcd-server) deletes our key and puts it back under the same
// lease, and a watching peer sees both; a key deleted by an operator while we are withdrawn is
// not written back by the keep-alive.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "controlplane/resolvers/etcd/etcd_resolver.h"
#include "controlplane/resolvers/sqlite_resolver.h"
#include "tests/unit/controlplane/etcd/etcd_server.h"
#include "tests/unit/controlplane/etcd/recording_sink.h"
#include "tests/unit/controlplane/temp_dir.h"

namespace ringside::resolvers {
namespace {

using namespace std::chrono_literals;

SelfRegistration self(std::string app, std::string address) {
  SelfRegistration s;
  s.app_id = std::move(app);
  s.app_namespace = "default";
  s.address = std::move(address);
  s.host_name = "test-host";
  s.http_port = 3500;
  return s;
}

size_t count_app(SqliteResolver& r, std::string_view app) {
  absl::StatusOr<std::vector<snapshot::Instance>> all = r.list();
  EXPECT_TRUE(all.ok()) << all.status();
  if (!all.ok()) return 0;
  return static_cast<size_t>(std::count_if(all->begin(), all->end(), [&](const auto& i) { return i.app_id == app; }));
}

TEST(SqliteServingTest, WithdrawDeletesOurRowAndRestoreWritesItAgain) {
  ringside::testing::TempDir dir;
  config::SqliteOptions o;
  o.path = dir.file("nr.db");
  o.update_interval = 5s;
  o.timeout = 1s;
  SqliteResolver b(o);
  SqliteResolver watcher(o);
  ASSERT_TRUE(b.start(self("b", "127.0.0.1:50001")).ok());
  ASSERT_TRUE(watcher.start(self("a", "127.0.0.1:50002")).ok());
  EXPECT_EQ(count_app(watcher, "b"), 1u);
  const std::string first_id = b.registration_id();

  ASSERT_TRUE(b.set_serving(false).ok());
  EXPECT_EQ(count_app(watcher, "b"), 0u);
  ASSERT_TRUE(b.set_serving(false).ok());  // twice is fine
  ASSERT_TRUE(b.heartbeat().ok());         // a heartbeat does not bring the row back
  EXPECT_EQ(count_app(watcher, "b"), 0u);

  ASSERT_TRUE(b.set_serving(true).ok());
  EXPECT_EQ(count_app(watcher, "b"), 1u);
  EXPECT_NE(b.registration_id(), first_id) << "a restored row is a new registration";
  ASSERT_TRUE(b.heartbeat().ok());
  EXPECT_EQ(count_app(watcher, "b"), 1u);
  b.stop();
  EXPECT_EQ(count_app(watcher, "b"), 0u);
  watcher.stop();
}

class EtcdServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = etcd_.Start();
    ASSERT_TRUE(s.ok()) << "cannot run etcd (install etcd-server: scripts/install-deps.sh): " << s;
  }
  etcd::EtcdOptions options() const {
    etcd::EtcdOptions o;
    o.endpoints = {etcd_.endpoint()};
    o.prefix = "/ringside-health-test/instances";
    o.lease_ttl = 10s;
    o.keep_alive_interval = 200ms;
    o.dial_timeout = 5s;
    o.max_backoff = 300ms;
    return o;
  }
  ringside::testing::EtcdServer etcd_;  // the real server
};

TEST_F(EtcdServingTest, WithdrawDeletesOurKeyAndRestorePutsItBackUnderTheSameLease) {
  ringside::testing::RecordingSink b_sink;
  ringside::testing::RecordingSink a_sink;  // a peer watching the prefix
  etcd::EtcdResolver b(options());
  etcd::EtcdResolver a(options());
  ASSERT_TRUE(b.start(self("b", "127.0.0.1:50001"), &b_sink).ok());
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:50002"), &a_sink).ok());
  ASSERT_TRUE(a_sink.wait_for_view({"a/default/127.0.0.1:50002", "b/default/127.0.0.1:50001"}));
  const int64_t lease = b.lease_keeper()->lease_id();

  ASSERT_TRUE(b.set_serving(false).ok());
  EXPECT_TRUE(a_sink.wait_for_view({"a/default/127.0.0.1:50002"})) << "the peer still sees b";
  // Several keep-alives later (200 ms each), the key has not been written back.
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(etcd_.Etcdctl("get --prefix /ringside-health-test/instances/default/b").find("50001"), std::string::npos);
  EXPECT_EQ(b.lease_keeper()->lease_id(), lease) << "the lease lives on while withdrawn";

  ASSERT_TRUE(b.set_serving(true).ok());
  EXPECT_TRUE(a_sink.wait_for_view({"a/default/127.0.0.1:50002", "b/default/127.0.0.1:50001"}))
      << "the peer never saw b come back";
  EXPECT_EQ(b.lease_keeper()->lease_id(), lease);
  b.stop();
  EXPECT_TRUE(a_sink.wait_for_view({"a/default/127.0.0.1:50002"}));
  a.stop();
}

}  // namespace
}  // namespace ringside::resolvers
