// http2::Endpoint's shared pieces: the StreamQueue logic (hard limit, watermarks, writable
// callbacks, deferral, window debt), the header list budget, and mem::RecyclingList.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/http2/endpoint.h"
#include "dataplane/mem/recycling_list.h"

namespace ringside::http2 {
namespace {

// An endpoint with no role logic: every event is accepted, writable tokens are recorded.
class TestEndpoint final : public Endpoint {
 public:
  TestEndpoint(mem::ShardPool* pool, const SessionSettings& settings = {})
      : Endpoint(pool, Role::kServer, settings) {}

  using Endpoint::consume_queue;
  using Endpoint::header_fits;
  using Endpoint::hold_window;
  using Endpoint::queue_send;
  using Endpoint::read_queue;

  std::vector<uint64_t> writable;  // tokens on_writable() was called with, in order

 private:
  int on_header(const nghttp2_frame&, std::string_view, std::string_view) override { return 0; }
  int on_data_chunk(int32_t, std::span<const uint8_t>) override { return 0; }
  int on_frame_recv(const nghttp2_frame&) override { return 0; }
  int on_frame_send(const nghttp2_frame&) override { return 0; }
  int on_stream_close(int32_t, uint32_t) override { return 0; }
  void on_writable(uint64_t token) override { writable.push_back(token); }
};

constexpr int32_t kStream = 1;  // no such stream is open: resume/consume are no-ops for nghttp2

struct Fixture : ::testing::Test {
  void SetUp() override { ASSERT_TRUE(ep.start()); }
  // Reads up to n bytes from q the way a data provider does; returns the provider's result.
  ssize_t read(size_t n, bool notify = true, bool closing = false) {
    scratch.resize(n);
    at_end = false;
    return ep.read_queue(&q, 7, notify, closing, scratch.data(), n, &at_end);
  }
  void flush() {
    mem::Buffer out(&pool);
    ASSERT_TRUE(ep.flush_to(&out));
  }

  mem::ShardPool pool;               // backs everything
  TestEndpoint ep{&pool};            // the endpoint under test
  StreamQueue q{&pool};              // one stream's queue
  std::vector<uint8_t> scratch;      // the provider's output buffer
  bool at_end = false;               // read_queue's end signal
  std::vector<uint8_t> chunk = std::vector<uint8_t>(16 << 10, 0xab);  // a 16 KiB send
};

TEST_F(Fixture, WritableFiresOnceAfterDrainingBelowTheLowWatermark) {
  while (q.size() < kStreamHighWatermark) {
    ASSERT_TRUE(ep.queue_send(&q, kStream, chunk));
  }
  EXPECT_TRUE(q.above_high);
  // Draining to just above the low watermark owes nothing yet.
  ASSERT_EQ(read(q.size() - kStreamLowWatermark), static_cast<ssize_t>(kStreamHighWatermark -
                                                                          kStreamLowWatermark));
  flush();
  EXPECT_TRUE(ep.writable.empty());
  // One byte more crosses it: the token is owed, and told after the output round.
  ASSERT_EQ(read(1), 1);
  EXPECT_FALSE(q.above_high);
  EXPECT_TRUE(ep.writable.empty());
  flush();
  EXPECT_EQ(ep.writable, std::vector<uint64_t>{7});
  // Hysteresis: further drains do not fire again until the queue reaches the high mark.
  ASSERT_GT(read(1000), 0);
  flush();
  EXPECT_EQ(ep.writable.size(), 1u);
}

TEST_F(Fixture, BelowTheHighWatermarkNothingIsOwed) {
  ASSERT_TRUE(ep.queue_send(&q, kStream, chunk));
  EXPECT_FALSE(q.above_high);
  ASSERT_EQ(read(chunk.size()), static_cast<ssize_t>(chunk.size()));
  flush();
  EXPECT_TRUE(ep.writable.empty());
}

TEST_F(Fixture, WithoutNotifyTheWatermarkResetsSilently) {
  while (q.size() < kStreamHighWatermark) ASSERT_TRUE(ep.queue_send(&q, kStream, chunk));
  ASSERT_GT(read(q.size(), /*notify=*/false), 0);
  EXPECT_FALSE(q.above_high);
  flush();
  EXPECT_TRUE(ep.writable.empty());
}

TEST_F(Fixture, EmptyQueueDefersUntilNewBytesResumeIt) {
  EXPECT_EQ(read(100), NGHTTP2_ERR_DEFERRED);
  EXPECT_TRUE(q.data_deferred);
  EXPECT_FALSE(at_end);
  ASSERT_TRUE(ep.queue_send(&q, kStream, std::span<const uint8_t>(chunk.data(), 10)));
  EXPECT_FALSE(q.data_deferred);
  EXPECT_EQ(read(100), 10);
  EXPECT_FALSE(at_end);
  EXPECT_EQ(scratch[0], 0xab);
}

TEST_F(Fixture, ClosingQueueEndsOnceDrained) {
  ASSERT_TRUE(ep.queue_send(&q, kStream, std::span<const uint8_t>(chunk.data(), 10)));
  EXPECT_EQ(read(4, true, /*closing=*/true), 4);
  EXPECT_FALSE(at_end);
  EXPECT_EQ(read(100, true, true), 6);
  EXPECT_TRUE(at_end);
  // Nothing queued at all: the end comes with zero bytes, never DEFERRED.
  EXPECT_EQ(read(100, true, true), 0);
  EXPECT_TRUE(at_end);
  EXPECT_FALSE(q.data_deferred);
}

TEST_F(Fixture, HardLimitRefusesWithoutQueueing) {
  EXPECT_TRUE(q.fits(kStreamHardQueueLimit));
  EXPECT_FALSE(q.fits(kStreamHardQueueLimit + 1));
  ASSERT_TRUE(ep.queue_send(&q, kStream, chunk));
  EXPECT_FALSE(q.fits(kStreamHardQueueLimit - chunk.size() + 1));
  std::vector<uint8_t> big(kStreamHardQueueLimit - chunk.size() + 1);
  EXPECT_FALSE(ep.queue_send(&q, kStream, big));
  EXPECT_EQ(q.size(), chunk.size());
}

TEST_F(Fixture, ConsumeNeverReopensMoreThanWasHeld) {
  TestEndpoint::hold_window(&q, 100);
  TestEndpoint::hold_window(&q, 50);
  EXPECT_EQ(q.unconsumed, 150u);
  ep.consume_queue(&q, kStream, 40);
  EXPECT_EQ(q.unconsumed, 110u);
  ep.consume_queue(&q, kStream, 1000);
  EXPECT_EQ(q.unconsumed, 0u);
}

TEST(HeaderBudget, CountsRfc7541EntrySizeAgainstTheAdvertisedLimit) {
  mem::ShardPool pool;
  SessionSettings settings;
  settings.max_header_list_bytes = 100;
  TestEndpoint ep(&pool, settings);
  uint32_t bytes = 0;
  EXPECT_TRUE(ep.header_fits(&bytes, "name", "value-1234"));  // 4 + 10 + 32
  EXPECT_EQ(bytes, 46u);
  EXPECT_TRUE(ep.header_fits(&bytes, "n", "v"));  // 80
  EXPECT_FALSE(ep.header_fits(&bytes, "", ""));   // 112 > 100
  EXPECT_EQ(bytes, 112u);
  uint32_t exact = 0;
  EXPECT_TRUE(ep.header_fits(&exact, std::string(34, 'k'), std::string(34, 'v')));  // 100
  EXPECT_FALSE(ep.header_fits(&exact, "", ""));
}

// ---- mem::RecyclingList ----

struct Item {
  explicit Item(int* live, int v) : live(live), value(v) { ++*live; }
  ~Item() { --*live; }
  Item* prev = nullptr;  // list links (newer)
  Item* next = nullptr;  // list links (older)
  int* live;             // count of constructed, not destroyed items
  int value;             // what the constructor was given
};

TEST(RecyclingList, ReleasedBlocksAreReusedForFreshObjects) {
  mem::ShardPool pool;
  int live = 0;
  {
    mem::RecyclingList<Item> list(&pool);
    Item* a = list.acquire(&live, 1);
    Item* b = list.acquire(&live, 2);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(list.size(), 2u);
    EXPECT_EQ(list.first(), b);
    EXPECT_EQ(b->next, a);
    list.release(a);
    EXPECT_EQ(live, 1);  // destroyed at release
    EXPECT_EQ(list.size(), 1u);
    EXPECT_EQ(list.first(), b);
    EXPECT_EQ(b->next, nullptr);
    uint64_t allocs = pool.stats().allocs;
    Item* c = list.acquire(&live, 3);
    EXPECT_EQ(c, a);                         // same block
    EXPECT_EQ(pool.stats().allocs, allocs);  // without asking the pool
    EXPECT_EQ(c->value, 3);                  // built afresh
    EXPECT_EQ(live, 2);
  }
  EXPECT_EQ(live, 0);  // the destructor destroyed the objects still in use
}

TEST(RecyclingList, ReleaseInTheMiddleKeepsTheListLinked) {
  mem::ShardPool pool;
  int live = 0;
  mem::RecyclingList<Item> list(&pool);
  Item* a = list.acquire(&live, 1);
  Item* b = list.acquire(&live, 2);
  Item* c = list.acquire(&live, 3);
  list.release(b);
  EXPECT_EQ(list.first(), c);
  EXPECT_EQ(c->next, a);
  EXPECT_EQ(a->prev, c);
  list.release(c);
  EXPECT_EQ(list.first(), a);
  EXPECT_EQ(a->prev, nullptr);
  list.release(a);
  EXPECT_EQ(list.first(), nullptr);
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(live, 0);
}

}  // namespace
}  // namespace ringside::http2
