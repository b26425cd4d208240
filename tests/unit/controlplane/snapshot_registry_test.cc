#include "controlplane/snapshot/snapshot_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ringside::snapshot {
namespace {

// A table whose every instance encodes the table version in its cluster tag, so a reader can
// check that what it sees belongs to one table (a torn or freed table would not).
std::unique_ptr<const InstanceTable> table_with_version(uint64_t version, int instances) {
  std::vector<Instance> v;
  for (int i = 0; i < instances; ++i) {
    absl::StatusOr<Instance> inst =
        make_instance(absl::StrCat("app", i % 3), "", absl::StrCat("127.0.0.1:", 1000 + i), absl::StrCat("v", version));
    v.push_back(*inst);
  }
  return InstanceTable::build(std::move(v), false, version);
}

TEST(SnapshotRegistryTest, StartsWithAnEmptyTable) {
  SnapshotRegistry reg(1);
  ASSERT_NE(reg.current(), nullptr);
  EXPECT_EQ(reg.current()->size(), 0u);
  EXPECT_EQ(reg.current()->version(), 0u);
}

TEST(SnapshotRegistryTest, OldTableLivesUntilEveryReaderPassedAQuiescentState) {
  SnapshotRegistry reg(2);
  SnapshotRegistry::Reader* r1 = reg.register_reader();
  SnapshotRegistry::Reader* r2 = reg.register_reader();
  ASSERT_NE(r1, nullptr);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(reg.register_reader(), nullptr);  // capacity is fixed

  reg.publish(table_with_version(1, 3));
  EXPECT_EQ(reg.current()->version(), 1u);
  EXPECT_EQ(reg.retired_count(), 1u);
  EXPECT_EQ(reg.reclaim(), 0u);  // neither reader has passed a quiescent point
  r1->quiescent();
  EXPECT_EQ(reg.reclaim(), 0u);  // r2 may still hold the empty table
  r2->quiescent();
  EXPECT_EQ(reg.reclaim(), 1u);
  EXPECT_EQ(reg.retired_count(), 0u);
}

TEST(SnapshotRegistryTest, OfflineReadersDoNotHoldReclamation) {
  SnapshotRegistry reg(2);
  SnapshotRegistry::Reader* busy = reg.register_reader();
  SnapshotRegistry::Reader* idle = reg.register_reader();
  idle->offline();
  reg.publish(table_with_version(1, 1));
  reg.publish(table_with_version(2, 1));
  EXPECT_EQ(reg.reclaim(), 0u);
  busy->quiescent();
  EXPECT_EQ(reg.reclaim(), 2u);
  // Coming back online sees the newest table and holds only what is published later.
  idle->online();
  EXPECT_EQ(reg.current()->version(), 2u);
  reg.publish(table_with_version(3, 1));
  busy->quiescent();
  EXPECT_EQ(reg.reclaim(), 0u);
  idle->quiescent();
  EXPECT_EQ(reg.reclaim(), 1u);
}

// Control thread publishes thousands of tables while readers look up and touch instances.
// Run under ASan (use-after-free) and TSan (data races) in CI.
TEST(SnapshotRegistryTest, ChurnIsSafeAndReclaimsEverythingButTheCurrentTable) {
  constexpr int kReaders = 4;
  constexpr int kTables = 10000;
  SnapshotRegistry reg(kReaders);
  std::vector<SnapshotRegistry::Reader*> readers;
  for (int i = 0; i < kReaders; ++i) readers.push_back(reg.register_reader());

  std::atomic<bool> done{false};
  std::atomic<uint64_t> lookups{0};
  std::atomic<int> inconsistencies{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      SnapshotRegistry::Reader* me = readers[r];
      uint64_t last_version = 0;
      int iteration = 0;
      while (!done.load(std::memory_order_acquire)) {
        const InstanceTable* t = reg.current();
        if (t->version() < last_version) inconsistencies.fetch_add(1);  // versions never go back
        last_version = t->version();
        const std::string tag = absl::StrCat("v", t->version());
        // Several passes hold the table long enough for a premature free to be caught.
        for (int pass = 0; pass < 8; ++pass) {
          for (const char* app : {"app0", "app1", "app2"}) {
            for (const Instance& i : t->find(app, "")) {
              if (t->version() != 0 && (i.cluster != tag || i.app_id != app || t->find_by_id(i.id) != &i))
                inconsistencies.fetch_add(1);
            }
          }
        }
        lookups.fetch_add(1, std::memory_order_relaxed);
        me->quiescent();
        // Some iterations "block" in the event loop.
        if (++iteration % 64 == 0) {
          me->offline();
          std::this_thread::yield();
          me->online();
        }
      }
      me->offline();
    });
  }
  size_t freed = 0;
  for (int v = 1; v <= kTables; ++v) {
    reg.publish(table_with_version(v, 1 + v % 7));
    freed += reg.reclaim();
  }
  // Let readers observe the final table before stopping them.
  while (lookups.load() < 1000) std::this_thread::yield();
  done.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  freed += reg.reclaim();

  EXPECT_EQ(inconsistencies.load(), 0);
  EXPECT_EQ(freed, static_cast<size_t>(kTables));  // every replaced table (incl. the initial empty one)
  EXPECT_EQ(reg.retired_count(), 0u);
  EXPECT_EQ(reg.current()->version(), static_cast<uint64_t>(kTables));
}

}  // namespace
}  // namespace ringside::snapshot
