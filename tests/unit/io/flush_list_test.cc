// FlushList on its own: once per turn however often a node is added, removal from anywhere,
// nodes added while the list runs, and a node that removes another while running.
#include "dataplane/io/flush_list.h"

#include <gtest/gtest.h>

#include <string>

namespace ringside::io {
namespace {

// A participant that records its runs into a shared log.
struct Item {
  FlushList::Node node;        // the intrusive link
  std::string* log = nullptr;  // where runs are recorded
  char name = '?';             // what a run appends to the log
  FlushList* list = nullptr;   // the list (for items that act on it while running)
  Item* also_add = nullptr;    // added to the list during this item's run
  Item* also_remove = nullptr; // removed from the list during this item's run

  Item(std::string* l, char n, FlushList* fl) : log(l), name(n), list(fl) {
    node.run = &Item::run;
    node.owner = this;
  }
  static void run(void* self) {
    auto* it = static_cast<Item*>(self);
    it->log->push_back(it->name);
    if (it->also_add) it->list->add(&it->also_add->node);
    if (it->also_remove) it->list->remove(&it->also_remove->node);
  }
};

TEST(FlushListTest, AddedSeveralTimesRunsOnceInOrderOfFirstAdd) {
  std::string log;
  FlushList list;
  Item a(&log, 'a', &list), b(&log, 'b', &list);
  list.add(&a.node);
  list.add(&b.node);
  list.add(&a.node);
  list.add(&a.node);
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.run(), 2u);
  EXPECT_EQ(log, "ab");
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.run(), 0u);
  EXPECT_EQ(log, "ab");
  list.add(&b.node);  // the next turn: runs again
  list.run();
  EXPECT_EQ(log, "abb");
}

TEST(FlushListTest, RemovingHeadMiddleTailAndAbsentNodesKeepsTheRest) {
  std::string log;
  FlushList list;
  Item a(&log, 'a', &list), b(&log, 'b', &list), c(&log, 'c', &list), d(&log, 'd', &list),
      e(&log, 'e', &list);
  for (Item* it : {&a, &b, &c, &d}) list.add(&it->node);
  list.remove(&b.node);  // middle
  list.remove(&a.node);  // head
  list.remove(&d.node);  // tail
  list.remove(&e.node);  // never added: nothing happens
  list.remove(&b.node);  // twice: nothing happens
  EXPECT_EQ(list.size(), 1u);
  list.add(&e.node);
  list.add(&a.node);
  list.run();
  EXPECT_EQ(log, "cea");
  EXPECT_FALSE(a.node.linked);
}

TEST(FlushListTest, NodesAddedOrRemovedWhileRunningAreHonoured) {
  std::string log;
  FlushList list;
  Item link(&log, 'L', &list), conn(&log, 'C', &list), other(&log, 'O', &list),
      doomed(&log, 'X', &list);
  // An HTTP/2 link whose output marks its TCP connection dirty: both run in the same pass.
  link.also_add = &conn;
  // A node whose run closes (removes) a connection still waiting on the list.
  other.also_remove = &doomed;
  list.add(&link.node);
  list.add(&other.node);
  list.add(&doomed.node);
  EXPECT_EQ(list.run(), 3u);
  EXPECT_EQ(log, "LOC");
  EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace ringside::io
