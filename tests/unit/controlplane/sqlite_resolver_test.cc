#include "controlplane/resolvers/sqlite_resolver.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <thread>

#include "tests/unit/controlplane/temp_dir.h"

namespace ringside::resolvers {
namespace {

using namespace std::chrono_literals;

config::SqliteOptions options_for(const std::string& path) {
  config::SqliteOptions o;
  o.path = path;
  o.update_interval = 2s;  // short, so expiry tests stay fast
  o.timeout = 1s;
  return o;
}

SelfRegistration self(std::string app, std::string address) {
  SelfRegistration s;
  s.app_id = std::move(app);
  s.app_namespace = "default";
  s.address = std::move(address);
  s.http_port = 3500;
  return s;
}

std::vector<std::string> addresses_of(SqliteResolver& r, std::string_view app) {
  absl::StatusOr<std::vector<snapshot::Instance>> all = r.list();
  EXPECT_TRUE(all.ok()) << all.status();
  std::vector<std::string> out;
  if (!all.ok()) return out;
  for (const snapshot::Instance& i : *all) {
    if (i.app_id == app) out.push_back(i.address_text);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Direct SQL on the shared file, as another process (daprd) would do it.
class RawDb {
 public:
  explicit RawDb(const std::string& path) { sqlite3_open(path.c_str(), &db_); sqlite3_busy_timeout(db_, 2000); }
  ~RawDb() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << " in " << sql;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out = t ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;  // connection
};

TEST(SqliteResolverTest, TwoRegistrationsSeeEachOther) {
  testing::TempDir dir;
  SqliteResolver a(options_for(dir.file("nr.db")));
  SqliteResolver b(options_for(dir.file("nr.db")));
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  ASSERT_TRUE(b.start(self("b", "127.0.0.1:40002")).ok());
  EXPECT_EQ(addresses_of(a, "b"), std::vector<std::string>{"127.0.0.1:40002"});
  EXPECT_EQ(addresses_of(b, "a"), std::vector<std::string>{"127.0.0.1:40001"});
  EXPECT_FALSE(a.namespace_aware());
  EXPECT_EQ(a.heartbeat_interval(), 500ms);  // half the slack (2s − 1s), at least 500 ms
  // daprd defaults (5s, timeout 1s): half the 4 s slack, so a renewal late by a busy SQLite
  // and the whole-second truncation of last_update still leave the row fresh.
  EXPECT_EQ(SqliteResolver(config::SqliteOptions{}).heartbeat_interval(), 2s);
}

TEST(SqliteResolverTest, UsesDaprSchemaAndMigrationsTable) {
  testing::TempDir dir;
  SqliteResolver a(options_for(dir.file("nr.db")));
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  RawDb raw(dir.file("nr.db"));
  EXPECT_EQ(raw.text("SELECT value FROM metadata WHERE key = 'nr-migrations'"), "1");
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.text("SELECT namespace FROM hosts WHERE app_id = 'a'"), "");
  EXPECT_EQ(raw.text("SELECT length(registration_id) FROM hosts WHERE app_id = 'a'"), "36");  // UUID text
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_master WHERE name IN ('hosts_address_idx', 'hosts_last_update_idx')"), "2");
  // A second sidecar on the same file does not migrate again.
  SqliteResolver b(options_for(dir.file("nr.db")));
  EXPECT_TRUE(b.start(self("b", "127.0.0.1:40002")).ok());
}

TEST(SqliteResolverTest, DisableWalUsesDeleteJournal) {
  testing::TempDir dir;
  config::SqliteOptions o = options_for(dir.file("nr.db"));
  o.disable_wal = true;
  SqliteResolver a(o);
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  EXPECT_EQ(RawDb(dir.file("nr.db")).text("PRAGMA journal_mode"), "delete");
}

TEST(SqliteResolverTest, FindsRowsWrittenByDaprd) {
  testing::TempDir dir;
  SqliteResolver a(options_for(dir.file("nr.db")));
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  // components-contrib's registerHost statement, verbatim.
  RawDb(dir.file("nr.db"))
      .exec("REPLACE INTO hosts (registration_id, address, app_id, namespace, last_update) VALUES "
            "('0b0e9d0c-8f1e-4b8f-9a59-6f7f8f0e2f11', '127.0.0.1:47311', 'daprd-app', '', unixepoch(CURRENT_TIMESTAMP))");
  EXPECT_EQ(addresses_of(a, "daprd-app"), std::vector<std::string>{"127.0.0.1:47311"});
}

TEST(SqliteResolverTest, IgnoresRowsOlderThanUpdateInterval) {
  testing::TempDir dir;
  SqliteResolver a(options_for(dir.file("nr.db")));
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  RawDb raw(dir.file("nr.db"));
  raw.exec("INSERT INTO hosts VALUES ('r1', '127.0.0.1:1', 'old', '', unixepoch(CURRENT_TIMESTAMP) - 2)");
  raw.exec("INSERT INTO hosts VALUES ('r2', '127.0.0.1:2', 'fresh', '', unixepoch(CURRENT_TIMESTAMP) - 1)");
  raw.exec("INSERT INTO hosts VALUES ('r3', '[::1]:3', 'v6', '', unixepoch(CURRENT_TIMESTAMP))");
  EXPECT_TRUE(addresses_of(a, "old").empty());
  EXPECT_EQ(addresses_of(a, "fresh"), std::vector<std::string>{"127.0.0.1:2"});
  EXPECT_EQ(addresses_of(a, "v6"), std::vector<std::string>{"[::1]:3"});  // IPv6 peers are dialable
  raw.exec("INSERT INTO hosts VALUES ('r4', 'not an address', 'junk', '', unixepoch(CURRENT_TIMESTAMP))");
  EXPECT_TRUE(addresses_of(a, "junk").empty());  // skipped, not fatal
}

TEST(SqliteResolverTest, RegistrationExpiresWithoutHeartbeatAndLivesWithIt) {
  testing::TempDir dir;
  SqliteResolver a(options_for(dir.file("nr.db")));
  SqliteResolver b(options_for(dir.file("nr.db")));
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  ASSERT_TRUE(b.start(self("b", "127.0.0.1:40002")).ok());
  // a heartbeats, b does not; after updateInterval (2 s, whole seconds) only a is listed.
  for (int i = 0; i < 7; ++i) {
    std::this_thread::sleep_for(a.heartbeat_interval());
    ASSERT_TRUE(a.heartbeat().ok());
  }
  EXPECT_EQ(addresses_of(b, "a"), std::vector<std::string>{"127.0.0.1:40001"});
  EXPECT_TRUE(addresses_of(a, "b").empty());
}

TEST(SqliteResolverTest, StopDeregisters) {
  testing::TempDir dir;
  SqliteResolver a(options_for(dir.file("nr.db")));
  SqliteResolver b(options_for(dir.file("nr.db")));
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  ASSERT_TRUE(b.start(self("b", "127.0.0.1:40002")).ok());
  b.stop();
  b.stop();  // idempotent
  EXPECT_TRUE(addresses_of(a, "b").empty());
  EXPECT_EQ(RawDb(dir.file("nr.db")).text("SELECT count(*) FROM hosts"), "1");
}

TEST(SqliteResolverTest, HeartbeatRegistersAgainWhenTheRowWasRemoved) {
  testing::TempDir dir;
  SqliteResolver a(options_for(dir.file("nr.db")));
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  const std::string first_id = a.registration_id();
  RawDb(dir.file("nr.db")).exec("DELETE FROM hosts");
  EXPECT_TRUE(addresses_of(a, "a").empty());
  ASSERT_TRUE(a.heartbeat().ok());
  EXPECT_EQ(addresses_of(a, "a"), std::vector<std::string>{"127.0.0.1:40001"});
  EXPECT_NE(a.registration_id(), first_id);
}

TEST(SqliteResolverTest, SameAddressTakesOverThePreviousRegistration) {
  testing::TempDir dir;
  SqliteResolver old_one(options_for(dir.file("nr.db")));
  SqliteResolver new_one(options_for(dir.file("nr.db")));
  ASSERT_TRUE(old_one.start(self("a", "127.0.0.1:40001")).ok());
  ASSERT_TRUE(new_one.start(self("a2", "127.0.0.1:40001")).ok());
  EXPECT_TRUE(addresses_of(new_one, "a").empty());
  EXPECT_EQ(addresses_of(new_one, "a2"), std::vector<std::string>{"127.0.0.1:40001"});
}

TEST(SqliteResolverTest, CreatesTheDefaultDirectoryAndReportsUnusablePaths) {
  testing::TempDir dir;
  config::SqliteOptions o = options_for(dir.file("state/ringside/nr.db"));
  o.path_is_default = true;
  SqliteResolver a(o);
  EXPECT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());

  SqliteResolver bad(options_for(dir.file("no/such/dir/nr.db")));
  absl::Status s = bad.start(self("a", "127.0.0.1:40001"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir.file("no/such/dir/nr.db")), std::string::npos) << s;

  SqliteResolver unstarted(options_for(dir.file("x.db")));
  EXPECT_FALSE(unstarted.list().ok());
  EXPECT_FALSE(unstarted.heartbeat().ok());
  unstarted.stop();
}

TEST(SqliteResolverTest, GarbageCollectsOnlyLongDeadRows) {
  testing::TempDir dir;
  config::SqliteOptions o = options_for(dir.file("nr.db"));
  o.cleanup_interval = std::chrono::seconds(60);
  SqliteResolver a(o);
  ASSERT_TRUE(a.start(self("a", "127.0.0.1:40001")).ok());
  RawDb raw(dir.file("nr.db"));
  raw.exec("INSERT INTO hosts VALUES ('r1', '127.0.0.1:1', 'dead', '', unixepoch(CURRENT_TIMESTAMP) - 3600)");
  raw.exec("INSERT INTO hosts VALUES ('r2', '127.0.0.1:2', 'slow', '', unixepoch(CURRENT_TIMESTAMP) - 10)");
  ASSERT_TRUE(a.heartbeat().ok());  // the first heartbeat claims the GC slot
  EXPECT_EQ(raw.text("SELECT group_concat(app_id) FROM (SELECT app_id FROM hosts ORDER BY app_id)"), "a,slow");
  EXPECT_NE(raw.text("SELECT value FROM metadata WHERE key = 'nr-last-cleanup'"), "");
}

TEST(SqliteResolverTest, MalformedDatabaseFileIsAStartError) {
  testing::TempDir dir;
  std::string path = dir.write("nr.db", std::string(4096, 'x'));
  SqliteResolver a(options_for(path));
  EXPECT_FALSE(a.start(self("a", "127.0.0.1:40001")).ok());
}

}  // namespace
}  // namespace ringside::resolvers
