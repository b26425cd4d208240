// Socket helpers and Ring set-up: address parsing (malformed input included), listening
// sockets, client sockets, and the io_uring error texts a user acts on.
#include "dataplane/io/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "dataplane/io/ring.h"

namespace ringside::io {
namespace {

std::string ip(uint32_t addr_be) {
  char buf[INET_ADDRSTRLEN];
  in_addr a{addr_be};
  return inet_ntop(AF_INET, &a, buf, sizeof buf);
}

TEST(ParseIpv4, AcceptsDottedQuadsLocalhostAndWildcards) {
  uint32_t a = 0;
  ASSERT_TRUE(parse_ipv4("127.0.0.1", &a));
  EXPECT_EQ(ip(a), "127.0.0.1");
  ASSERT_TRUE(parse_ipv4("10.1.2.3", &a));
  EXPECT_EQ(ip(a), "10.1.2.3");
  ASSERT_TRUE(parse_ipv4("localhost", &a));
  EXPECT_EQ(ip(a), "127.0.0.1");
  for (std::string_view any : {"", "0.0.0.0", "*"}) {
    a = 1;
    ASSERT_TRUE(parse_ipv4(any, &a)) << any;
    EXPECT_EQ(a, htonl(INADDR_ANY)) << any;
  }
}

TEST(ParseIpv4, RejectsMalformedAddresses) {
  uint32_t a = 0;
  for (std::string_view bad :
       {"256.0.0.1", "1.2.3", "1.2.3.4.5", "::1", "[::1]", "example.com", "127.0.0.1 ", " 127.0.0.1",
        "1.2.3.-4", "1..2.3", "127.0.0.1:80", "0x7f.0.0.1", "1234567890123456789012345678"}) {
    EXPECT_FALSE(parse_ipv4(bad, &a)) << bad;
  }
  EXPECT_FALSE(parse_ipv4(std::string_view("127.0.0.1\0x", 11), &a));  // embedded NUL
}

TEST(ParseHostPort, AcceptsHostAndPort) {
  sockaddr_in sa{};
  ASSERT_TRUE(parse_host_port("127.0.0.1:3500", &sa));
  EXPECT_EQ(sa.sin_family, AF_INET);
  EXPECT_EQ(ip(sa.sin_addr.s_addr), "127.0.0.1");
  EXPECT_EQ(ntohs(sa.sin_port), 3500);
  ASSERT_TRUE(parse_host_port("localhost:1", &sa));
  EXPECT_EQ(ntohs(sa.sin_port), 1);
  ASSERT_TRUE(parse_host_port(":65535", &sa));
  EXPECT_EQ(sa.sin_addr.s_addr, htonl(INADDR_ANY));
  EXPECT_EQ(ntohs(sa.sin_port), 65535);
}

TEST(ParseHostPort, RejectsMalformedInput) {
  sockaddr_in sa{};
  for (std::string_view bad :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999999999",
        "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:80x", "127.0.0.1: 80", "host:80", "1.2.3:80",
        "[::1]:80", ":", "127.0.0.1:80:90"}) {
    EXPECT_FALSE(parse_host_port(bad, &sa)) << bad;
  }
}

TEST(ListenTcp, PortZeroPicksAFreePortOnLoopback) {
  auto fd = listen_tcp("127.0.0.1", 0, /*first=*/true);
  ASSERT_TRUE(fd.ok()) << fd.status();
  uint16_t port = bound_port(*fd);
  EXPECT_NE(port, 0);
  // It accepts connections.
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  ::close(c);
  ::close(*fd);
}

TEST(ListenTcp, EveryShardCanListenOnTheSamePort) {
  auto a = listen_tcp("127.0.0.1", 0, /*first=*/true);
  ASSERT_TRUE(a.ok());
  auto b = listen_tcp("127.0.0.1", bound_port(*a), /*first=*/false);  // SO_REUSEPORT group
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(bound_port(*b), bound_port(*a));
  ::close(*a);
  ::close(*b);
}

// A socket of "another program" that holds a port on 127.0.0.1.
int hold_port(bool reuseport, uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (reuseport) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1) != 0) {
    ::close(fd);
    return -1;
  }
  *port = bound_port(fd);
  return fd;
}

TEST(ListenTcp, PortHeldByAnotherProgramIsAlreadyExistsNamingThePort) {
  for (bool other_uses_reuseport : {false, true}) {
    uint16_t port = 0;
    int other = hold_port(other_uses_reuseport, &port);
    ASSERT_GE(other, 0);
    // Even a holder with SO_REUSEPORT (which would let us share the port silently) is refused.
    auto fd = listen_tcp("127.0.0.1", port, /*first=*/true);
    ASSERT_FALSE(fd.ok()) << "reuseport=" << other_uses_reuseport;
    EXPECT_EQ(fd.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_NE(fd.status().message().find(std::to_string(port)), std::string::npos)
        << fd.status().message();
    ::close(other);
  }
}

TEST(ListenTcp, PortZeroNeverCollides) {
  auto a = listen_tcp("127.0.0.1", 0, /*first=*/true);
  auto b = listen_tcp("127.0.0.1", 0, /*first=*/true);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(bound_port(*a), bound_port(*b));
  ::close(*a);
  ::close(*b);
}

TEST(ListenTcp, RejectsAHostThatIsNotAnIpv4Address) {
  auto fd = listen_tcp("not-an-ip", 0, /*first=*/true);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(fd.status().message().find("not-an-ip"), std::string::npos);
}

TEST(BoundPort, IsZeroForABadFd) { EXPECT_EQ(bound_port(-1), 0); }

TEST(NewClientSocket, IsNonBlockingWithNoDelay) {
  int fd = new_client_socket();
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  int v = 0;
  socklen_t len = sizeof v;
  ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  EXPECT_EQ(v, 1);
  ::close(fd);
}

TEST(ExplainIoUringError, TellsTheUserWhatToChange) {
  EXPECT_NE(explain_io_uring_error(EPERM).find("io_uring_disabled"), std::string::npos);
  EXPECT_NE(explain_io_uring_error(EPERM).find("seccomp"), std::string::npos);
  EXPECT_NE(explain_io_uring_error(ENOSYS).find("6.1"), std::string::npos);
  EXPECT_NE(explain_io_uring_error(ENOMEM).find("ulimit -l"), std::string::npos);
  EXPECT_NE(explain_io_uring_error(EINVAL).find("DEFER_TASKRUN"), std::string::npos);
  EXPECT_NE(explain_io_uring_error(EBADF).find(std::strerror(EBADF)), std::string::npos);
}

// A NOP that counts its completions through the Operation callback.
struct NopCounter {
  static void done(void* self, int32_t res, uint32_t) {
    auto* n = static_cast<NopCounter*>(self);
    ++n->completions;
    n->last_res = res;
  }
  int completions = 0;   // completions dispatched
  int32_t last_res = 1;  // res of the last one
};

TEST(Ring, DispatchesEveryCompletionToItsOperation) {
  Ring ring;
  ASSERT_TRUE(ring.init(RingOptions{}).ok());
  EXPECT_TRUE(ring.deferred_taskrun());  // this kernel supports SINGLE_ISSUER|DEFER_TASKRUN
  NopCounter counter;
  Operation op{&NopCounter::done, &counter};
  io_uring_prep_nop(ring.sqe(&op));
  io_uring_prep_nop(ring.sqe(&op));
  int dispatched = 0;
  for (int i = 0; i < 100 && dispatched < 2; ++i) {
    ring.submit_and_wait(10'000'000);
    dispatched += ring.dispatch();
  }
  EXPECT_EQ(dispatched, 2);
  EXPECT_EQ(counter.completions, 2);
  EXPECT_EQ(counter.last_res, 0);
}

TEST(Ring, SqeSubmitsWhenTheQueueIsFull) {
  Ring ring;
  RingOptions small;
  small.entries = 4;
  ASSERT_TRUE(ring.init(small).ok());
  NopCounter counter;
  Operation op{&NopCounter::done, &counter};
  for (int i = 0; i < 12; ++i) io_uring_prep_nop(ring.sqe(&op));  // 3x the SQ size: never null
  for (int i = 0; i < 100 && counter.completions < 12; ++i) {
    ring.submit_and_wait(10'000'000);
    ring.dispatch();
  }
  EXPECT_EQ(counter.completions, 12);
}

TEST(Ring, OperationsWithoutACallbackAreSkipped) {
  Ring ring;
  ASSERT_TRUE(ring.init(RingOptions{}).ok());
  Operation ignored{};
  io_uring_prep_nop(ring.sqe(&ignored));
  io_uring_prep_nop(ring.sqe(nullptr));
  int dispatched = 0;
  for (int i = 0; i < 100 && dispatched < 2; ++i) {
    ring.submit_and_wait(10'000'000);
    dispatched += ring.dispatch();
  }
  EXPECT_EQ(dispatched, 2);
}

TEST(Ring, WaitReturnsAfterTheTimeoutWhenNothingCompletes) {
  Ring ring;
  ASSERT_TRUE(ring.init(RingOptions{}).ok());
  auto t0 = std::chrono::steady_clock::now();
  ring.submit_and_wait(20'000'000);
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(15));
  EXPECT_LT(waited, std::chrono::seconds(2));
  EXPECT_EQ(ring.dispatch(), 0);
}

}  // namespace
}  // namespace ringside::io
