// BufferRing: provided receive buffers. The kernel picks a buffer per receive, reports which one,
// runs dry with -ENOBUFS when none is left, and takes a buffer back after recycle().
#include "dataplane/io/buffer_ring.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "dataplane/io/ring.h"

namespace ringside::io {
namespace {

// One buffer-select receive's outcome.
struct RecvResult {
  int32_t res = 1;     // bytes or -errno
  uint32_t flags = 0;  // carries the buffer id
  bool done = false;   // completion seen
  uint16_t bid() const { return static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT); }
  static void complete(void* self, int32_t res, uint32_t flags) {
    auto* r = static_cast<RecvResult*>(self);
    r->res = res;
    r->flags = flags;
    r->done = true;
  }
};

class BufferRingTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ring.init(RingOptions{}).ok());
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  }
  void TearDown() override {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  // Writes `bytes` to one end and receives once on the other with buffer selection.
  RecvResult recv_once(BufferRing& br, std::string_view bytes) {
    if (!bytes.empty()) {
      EXPECT_EQ(::write(fds[0], bytes.data(), bytes.size()), ssize_t(bytes.size()));
    }
    RecvResult r;
    Operation op{&RecvResult::complete, &r};
    io_uring_sqe* s = ring.sqe(&op);
    io_uring_prep_recv(s, fds[1], nullptr, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = br.group_id();
    for (int i = 0; i < 200 && !r.done; ++i) {
      ring.submit_and_wait(10'000'000);
      ring.dispatch();
    }
    EXPECT_TRUE(r.done);
    return r;
  }
  std::string text(BufferRing& br, const RecvResult& r) {
    auto b = br.buffer(r.bid(), static_cast<size_t>(r.res));
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }

  Ring ring;
  int fds[2] = {-1, -1};
};

TEST_F(BufferRingTest, RejectsEntriesThatAreNotAPowerOfTwoUpTo32768) {
  for (unsigned bad : {0u, 3u, 100u, 65536u}) {
    BufferRing br;
    absl::Status s = br.init(ring.raw(), 1, bad, 4096);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(BufferRingTest, ReceivesIntoAProvidedBufferAndReportsItsId) {
  BufferRing br;
  ASSERT_TRUE(br.init(ring.raw(), 3, 4, 64).ok());
  EXPECT_EQ(br.group_id(), 3);
  RecvResult r = recv_once(br, "hello");
  ASSERT_EQ(r.res, 5);
  EXPECT_TRUE(r.flags & IORING_CQE_F_BUFFER);
  EXPECT_LT(r.bid(), 4);
  EXPECT_EQ(text(br, r), "hello");
}

TEST_F(BufferRingTest, ReceiveIsCappedAtTheBufferSize) {
  BufferRing br;
  ASSERT_TRUE(br.init(ring.raw(), 0, 2, 8).ok());
  RecvResult r = recv_once(br, "0123456789abcdef");
  ASSERT_EQ(r.res, 8);
  EXPECT_EQ(text(br, r), "01234567");
  br.recycle(r.bid());
  RecvResult rest = recv_once(br, "");
  ASSERT_EQ(rest.res, 8);
  EXPECT_EQ(text(br, rest), "89abcdef");  // nothing lost between buffers
}

TEST_F(BufferRingTest, RunsDryWithEnobufsAndRecycleMakesABufferAvailableAgain) {
  BufferRing br;
  ASSERT_TRUE(br.init(ring.raw(), 0, 2, 16).ok());
  RecvResult a = recv_once(br, "aaaa");
  RecvResult b = recv_once(br, "bbbb");
  ASSERT_EQ(a.res, 4);
  ASSERT_EQ(b.res, 4);
  EXPECT_NE(a.bid(), b.bid());
  EXPECT_EQ(text(br, a), "aaaa");  // a buffer keeps its bytes until recycled
  EXPECT_EQ(text(br, b), "bbbb");
  RecvResult dry = recv_once(br, "cccc");
  EXPECT_EQ(dry.res, -ENOBUFS);  // the bytes stay in the socket
  br.recycle(a.bid());
  RecvResult c = recv_once(br, "");
  ASSERT_EQ(c.res, 4);
  EXPECT_EQ(c.bid(), a.bid());
  EXPECT_EQ(text(br, c), "cccc");
}

TEST_F(BufferRingTest, ManyCyclesThroughASmallRing) {
  BufferRing br;
  ASSERT_TRUE(br.init(ring.raw(), 0, 2, 32).ok());
  for (int i = 0; i < 50; ++i) {
    std::string msg = std::string("message ") + std::to_string(i);
    RecvResult r = recv_once(br, msg);
    ASSERT_EQ(r.res, int32_t(msg.size())) << i;
    EXPECT_EQ(text(br, r), msg);
    br.recycle(r.bid());
  }
}

TEST_F(BufferRingTest, TwoGroupsCoexist) {
  BufferRing first, second;
  ASSERT_TRUE(first.init(ring.raw(), 1, 2, 16).ok());
  ASSERT_TRUE(second.init(ring.raw(), 2, 2, 16).ok());
  RecvResult a = recv_once(first, "one");
  RecvResult b = recv_once(second, "two");
  EXPECT_EQ(text(first, a), "one");
  EXPECT_EQ(text(second, b), "two");
}

}  // namespace
}  // namespace ringside::io
