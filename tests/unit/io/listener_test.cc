// Listener: multishot accept hands every new connection to the handler, tuned (TCP_NODELAY);
// stop() refuses new connections.
#include "dataplane/io/listener.h"

#include <netinet/tcp.h>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dataplane/io/socket.h"
#include "tests/unit/io/io_harness.h"

namespace ringside::io {
namespace {

using testing::IoHarness;
using testing::RawPeer;

struct AcceptLog : Listener::Handler {
  void on_accept(int fd) override { fds.push_back(fd); }
  ~AcceptLog() override {
    for (int fd : fds) ::close(fd);
  }
  std::vector<int> fds;  // accepted sockets, closed at the end
};

class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h.init(16, 4096).ok());
    auto fd = listen_tcp("127.0.0.1", 0, /*first=*/true);
    ASSERT_TRUE(fd.ok()) << fd.status();
    port = bound_port(*fd);
    listener = std::make_unique<Listener>(&h.ctx, *fd, &log);
    listener->start();
  }
  void TearDown() override {
    if (listener) {
      listener->stop();
      h.run_for(30);  // let the cancelled accept complete before the Listener goes away
    }
    listener.reset();
  }

  IoHarness h;
  AcceptLog log;
  uint16_t port = 0;
  std::unique_ptr<Listener> listener;
};

TEST_F(ListenerTest, AcceptsEveryConnection) {
  constexpr int kClients = 40;
  std::vector<std::unique_ptr<RawPeer>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawPeer>());
    ASSERT_TRUE(clients.back()->connect_to(port));
  }
  ASSERT_TRUE(h.run_until([&] { return log.fds.size() == kClients; }));
  h.run_for(20);
  EXPECT_EQ(log.fds.size(), size_t{kClients});  // each exactly once
  for (int fd : log.fds) {
    int v = 0;
    socklen_t len = sizeof v;
    ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    EXPECT_EQ(v, 1);
  }
}

TEST_F(ListenerTest, AcceptedSocketsCarryData) {
  RawPeer client;
  ASSERT_TRUE(client.connect_to(port));
  ASSERT_TRUE(h.run_until([&] { return log.fds.size() == 1; }));
  ASSERT_TRUE(client.write_all("ping"));
  char buf[8] = {};
  EXPECT_EQ(::recv(log.fds[0], buf, sizeof buf, 0), 4);
  EXPECT_STREQ(buf, "ping");
}

TEST_F(ListenerTest, StopRefusesNewConnections) {
  RawPeer before;
  ASSERT_TRUE(before.connect_to(port));
  ASSERT_TRUE(h.run_until([&] { return log.fds.size() == 1; }));
  listener->stop();
  listener->stop();  // idempotent
  h.run_for(20);
  RawPeer after;
  EXPECT_FALSE(after.connect_to(port));
  EXPECT_EQ(errno, ECONNREFUSED);
  h.run_for(20);
  EXPECT_EQ(log.fds.size(), 1u);
}

}  // namespace
}  // namespace ringside::io
