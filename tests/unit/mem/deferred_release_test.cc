// DeferredRelease: an object handed over stays usable until run(), then it is destroyed once and
// its block goes back to the pool (also when released through a second base class), objects
// released by destructors during run() go in the same run, and steady-state releases allocate
// nothing from the pool's point of view.
#include "dataplane/mem/deferred_release.h"

#include <gtest/gtest.h>

#include <vector>

#include "dataplane/mem/pool_object.h"

namespace ringside::mem {
namespace {

struct Tracked {
  explicit Tracked(std::vector<int>* log, int id) : log(log), id(id) {}
  ~Tracked() { log->push_back(id); }
  std::vector<int>* log;
  int id;
  char payload[100] = {};
};

TEST(DeferredRelease, ObjectsLiveUntilRunThenAreDestroyedInOrder) {
  ShardPool pool;
  DeferredRelease deferred(&pool);
  std::vector<int> log;
  auto* a = pool_new<Tracked>(&pool, &log, 1);
  auto* b = pool_new<Tracked>(&pool, &log, 2);
  deferred.release(a);
  deferred.release(b);
  a->payload[0] = 'x';  // still valid memory: nothing destroyed yet
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(deferred.pending(), 2u);
  uint64_t frees = pool.stats().frees;
  deferred.run();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_EQ(pool.stats().frees, frees + 2);
  EXPECT_EQ(deferred.pending(), 0u);
  deferred.run();  // nothing twice
  EXPECT_EQ(log.size(), 2u);
}

struct Base1 {
  virtual ~Base1() = default;
  char pad[40] = {};
};
struct Base2 {
  virtual ~Base2() = default;
  int* destroyed = nullptr;
};
struct Both final : Base1, Base2 {
  ~Both() override { ++*destroyed; }
};

TEST(DeferredRelease, ReleasingThroughASecondBaseFreesTheWholeBlock) {
  ShardPool pool;
  DeferredRelease deferred(&pool);
  int destroyed = 0;
  auto* obj = pool_new<Both>(&pool);
  obj->destroyed = &destroyed;
  Base2* as_base2 = obj;
  ASSERT_NE(static_cast<void*>(as_base2), static_cast<void*>(obj));  // not the block start
  deferred.release(as_base2);
  uint64_t frees = pool.stats().frees;
  deferred.run();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(pool.stats().frees, frees + 1);  // the block was recognised (a wrong pointer aborts)
}

struct Chain {
  Chain(DeferredRelease* d, Chain* next, std::vector<int>* log, int id)
      : d(d), next(next), log(log), id(id) {}
  ~Chain() {
    log->push_back(id);
    if (next) d->release(next);  // released while run() is going through the list
  }
  DeferredRelease* d;
  Chain* next;
  std::vector<int>* log;
  int id;
};

TEST(DeferredRelease, ReleasesMadeByDestructorsRunInTheSameRun) {
  ShardPool pool;
  DeferredRelease deferred(&pool);
  std::vector<int> log;
  Chain* tail = nullptr;
  for (int i = 200; i > 0; --i) tail = pool_new<Chain>(&pool, &deferred, tail, &log, i);
  deferred.release(tail);  // grows the array from inside run(), too
  deferred.run();
  ASSERT_EQ(log.size(), 200u);
  EXPECT_EQ(log.front(), 1);
  EXPECT_EQ(log.back(), 200);
  EXPECT_EQ(deferred.pending(), 0u);
}

TEST(DeferredRelease, SteadyStateTakesNoNewMemory) {
  ShardPool pool;
  DeferredRelease deferred(&pool);
  std::vector<int> log;
  for (int warm = 0; warm < 3; ++warm) {
    for (int i = 0; i < 100; ++i) deferred.release(pool_new<Tracked>(&pool, &log, i));
    deferred.run();
  }
  uint64_t global = pool.stats().global_allocs;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 100; ++i) deferred.release(pool_new<Tracked>(&pool, &log, i));
    deferred.run();
  }
  EXPECT_EQ(pool.stats().global_allocs, global);
  EXPECT_EQ(deferred.leaked(), 0u);
}

}  // namespace
}  // namespace ringside::mem
