// Limits (issue 10), with real processes: a sidecar with its echo app, attacked the ways the
// issue names, must answer fast, close what it has to, keep serving everyone else, and keep its
// memory bounded.
//   - slowloris: a head trickled byte by byte, a silent new connection, a stalled body → 408
//     and closed after --http-header-timeout / --http-body-timeout;
//   - an idle keep-alive connection is closed after --http-idle-timeout;
//   - --max-connections: past it, HTTP gets 503 and gRPC a GOAWAY(ENHANCE_YOUR_CALM); the
//     connections already held keep working, and room frees when one closes;
//   - 10,000 idle connections: the sidecar's resident memory grows by a stated bound and normal
//     requests keep being served (the figures are printed; the bound is the assertion).
// Every loop is bounded in time and count; the e2e suite also runs this with two shards.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/e2e/echo_sidecar_test.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/raw_socket.h"

namespace ringside::e2e {
namespace {

int ShardCount() {
  int n = 1;
  return absl::SimpleAtoi(E2eShards(), &n) && n > 0 ? n : 1;
}

// Reads what arrives on fd until `want` bytes, the peer closes, or the deadline.
std::string ReadUpTo(int fd, size_t want, Clock::time_point deadline) {
  std::string out;
  char buf[4096];
  while (out.size() < want && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

class LimitsTest : public EchoSidecarTest {
 protected:
  // A normal call still goes through (a few bounded retries: connections the test just closed
  // may still count against --max-connections until the sidecar reads their FIN).
  void ExpectServing() {
    absl::StatusOr<HttpMessage> r;
    for (int attempt = 0; attempt < 50; ++attempt) {
      r = Invoke(a_.ports.http, "POST", "a", "echo", "still serving");
      if (r.ok() && r->status() == 200) break;
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200) << r->body;
    EXPECT_EQ(r->body, "still serving");
  }
  double Metric(std::string_view name) {
    return ReadMetric(a_.ports.metrics, name).value_or(-1);
  }

};

TEST_F(LimitsTest, AHeadTrickledByteByByteGets408AfterTheHeaderTimeout) {
  ASSERT_NO_FATAL_FAILURE(Start({"--http-header-timeout", "1s"}));
  BlockingHttpConnection c;
  const auto deadline = Clock::now() + 20s;
  ASSERT_TRUE(c.Connect(a_.ports.http, deadline).ok());
  // One byte every 100 ms: a per-byte idle timer would never fire; the head's deadline does.
  const std::string head = "POST /v1.0/invoke/a/method/echo HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  const auto started = Clock::now();
  bool closed = false;
  for (size_t i = 0; i < 150 && Clock::now() < deadline; ++i) {
    if (!c.SendAll(std::string(1, i < head.size() ? head[i] : 'z'), deadline).ok()) {
      closed = true;  // the sidecar answered and closed while we were still sending
      break;
    }
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) break;  // the answer is there
  }
  auto r = c.ReadResponse(deadline);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cout << "slow head answered after " << took.count() << " ms (timeout 1000 ms)\n";
  ASSERT_TRUE(r.ok()) << r.status() << (closed ? " (send failed first)" : "");
  EXPECT_EQ(r->status(), 408);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.WaitForPeerClose(deadline));
  EXPECT_GE(Metric("ringside_http_read_timeouts_total"), 1);
  ExpectServing();
}

TEST_F(LimitsTest, ASilentNewConnectionAndAStalledBodyAreClosedWith408) {
  ASSERT_NO_FATAL_FAILURE(Start({"--http-header-timeout", "1s", "--http-body-timeout", "1s"}));
  const auto deadline = Clock::now() + 20s;
  BlockingHttpConnection silent;
  ASSERT_TRUE(silent.Connect(a_.ports.http, deadline).ok());
  BlockingHttpConnection stalled;
  ASSERT_TRUE(stalled.Connect(a_.ports.http, deadline).ok());
  ASSERT_TRUE(stalled.SendAll("POST /v1.0/invoke/a/method/echo HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 100\r\n\r\n0123456789", deadline).ok());
  for (BlockingHttpConnection* c : {&silent, &stalled}) {
    auto r = c->ReadResponse(deadline);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 408);
    EXPECT_TRUE(c->WaitForPeerClose(deadline));
  }
  EXPECT_GE(Metric("ringside_http_read_timeouts_total"), 2);
  // Nothing reached the app from the stalled body.
  ExpectServing();
}

TEST_F(LimitsTest, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(Start({"--http-idle-timeout", "1s"}));
  const auto deadline = Clock::now() + 20s;
  BlockingHttpConnection c;
  ASSERT_TRUE(c.Connect(a_.ports.http, deadline).ok());
  ASSERT_TRUE(c.SendAll("GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n", deadline).ok());
  auto r = c.ReadResponse(deadline);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 204);
  const auto idle_from = Clock::now();
  EXPECT_TRUE(c.WaitForPeerClose(deadline)) << "the idle connection stayed open";
  std::cout << "idle connection closed after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - idle_from).count()
            << " ms (timeout 1000 ms)\n";
  EXPECT_GE(Metric("ringside_http_idle_closed_total"), 1);
  ExpectServing();
}

TEST_F(LimitsTest, ConnectionsPastTheCapAreRefusedAndHeldOnesKeepWorking) {
  constexpr int kCap = 16;
  ASSERT_NO_FATAL_FAILURE(Start({"--max-connections", absl::StrCat(kCap)}));
  const int shards = ShardCount();
  const auto deadline = Clock::now() + 30s;
  // Fill every shard: the HTTP port hands each connection to the shard with the fewest.
  std::vector<BlockingHttpConnection> held(static_cast<size_t>(kCap * shards));
  for (auto& c : held) {
    ASSERT_TRUE(c.Connect(a_.ports.http, deadline).ok());
    ASSERT_TRUE(c.SendAll("GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n", deadline).ok());
    auto r = c.ReadResponse(deadline);  // served: counted on its shard
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status(), 204);
  }
  // The next one is refused at once with a clear answer.
  {
    BlockingHttpConnection extra;
    ASSERT_TRUE(extra.Connect(a_.ports.http, deadline).ok());
    auto r = extra.ReadResponse(deadline);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 503);
    EXPECT_NE(r->body.find("--max-connections"), std::string::npos) << r->body;
  }
  EXPECT_GE(Metric("ringside_connections_refused_total"), 1);
  // The held connections are all still served.
  for (auto& c : held) {
    ASSERT_TRUE(c.SendAll("POST /v1.0/invoke/a/method/echo HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 4\r\n\r\nheld", deadline).ok());
    auto r = c.ReadResponse(deadline);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->body, "held");
  }
  // Room frees when connections close: new calls succeed again (bounded retries while the
  // sidecar notices the closes).
  for (int i = 0; i < shards; ++i) held[static_cast<size_t>(i)].Close();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    auto r = Invoke(a_.ports.http, "POST", "a", "echo", "room again");
    served = r.ok() && r->status() == 200 && r->body == "room again";
    if (!served) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(LimitsTest, GrpcConnectionsPastTheCapGetGoawayEnhanceYourCalm) {
  constexpr int kCap = 4;
  ASSERT_NO_FATAL_FAILURE(Start({"--max-connections", absl::StrCat(kCap)}));
  const int shards = ShardCount();
  // The gRPC API port is spread by the kernel's hash: keep connecting until one is refused.
  // After kCap * shards accepted connections every shard is full, so that bounds the loop.
  const std::string preface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                              std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
  std::vector<int> fds;
  std::string refusal;
  for (int i = 0; i <= kCap * shards && refusal.empty(); ++i) {
    const int fd = ConnectRaw(a_.ports.grpc);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    ASSERT_EQ(::send(fd, preface.data(), preface.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(preface.size()));
    // Our SETTINGS come back either way (9 bytes, maybe with more); a refusal adds a GOAWAY.
    const std::string got = ReadUpTo(fd, 9 + 9 + 8 + 20, Clock::now() + 2s);
    if (got.size() > 9 && static_cast<uint8_t>(got[9 + 3]) == 0x7) refusal = got;
  }
  for (int fd : fds) ::close(fd);
  ASSERT_FALSE(refusal.empty()) << "no connection was refused past --max-connections";
  const std::string goaway = refusal.substr(9);
  ASSERT_GE(goaway.size(), 17u);
  EXPECT_EQ(static_cast<uint8_t>(goaway[3]), 0x7);     // GOAWAY
  EXPECT_EQ(static_cast<uint8_t>(goaway[9 + 7]), 0xb);  // ENHANCE_YOUR_CALM
  EXPECT_NE(goaway.find("too many connections"), std::string::npos);
  ExpectServing();
}

// The overload figure: 10,000 idle connections held against one sidecar.
TEST_F(LimitsTest, TenThousandIdleConnectionsStayWithinAMemoryBoundAndCallsFlow) {
  constexpr int kIdle = 10000;
  // This process needs a descriptor per connection too: raise the soft limit, fail loudly when
  // the hard one is too low (never skip).
  // The sidecar inherits the limits and raises its own soft limit to the hard one.
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  constexpr rlim_t kNeeded = kIdle + 1000;
  if (lim.rlim_max < kNeeded) lim.rlim_max = kNeeded;  // allowed as root (CI runs as root)
  if (lim.rlim_cur < lim.rlim_max) lim.rlim_cur = lim.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0)
      << "cannot raise RLIMIT_NOFILE to " << kNeeded << ": " << strerror(errno);
  ASSERT_NO_FATAL_FAILURE(Start({"--max-connections", "20000"}));
  ExpectServing();
  const uint64_t before = ResidentBytes(a_.process->pid());
  std::vector<int> fds;
  fds.reserve(kIdle);
  for (int i = 0; i < kIdle; ++i) {
    const int fd = ConnectRaw(a_.ports.http);
    ASSERT_GE(fd, 0) << "connect " << i << ": " << strerror(errno);
    fds.push_back(fd);
  }
  // Every one is accepted and held (the sidecar counts them).
  bool all_open = false;
  for (int i = 0; i < 100 && !all_open; ++i) {
    all_open = Metric("ringside_connections_open") >= kIdle;
    if (!all_open) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(all_open) << "open connections: " << Metric("ringside_connections_open");
  const uint64_t held = ResidentBytes(a_.process->pid());
  ExpectServing();
  for (int fd : fds) {
    // Reset instead of FIN: 10,000 sockets in TIME_WAIT would hold that many local ports
    // against the other tests running beside this one.
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  }
  const uint64_t growth = held > before ? held - before : 0;
  std::cout << kIdle << " idle connections: sidecar RSS " << (before >> 10) << " KiB -> "
            << (held >> 10) << " KiB (+" << (growth >> 10) << " KiB, "
            << growth / kIdle << " bytes per connection)\n";
  // The stated bound (docs/security.md): under 10 KiB of resident memory per idle connection
  // (measured: 8.6 KiB, the connection object in an 8 KiB pool block plus its socket state).
#if defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kPerConnection = 24 << 10;  // ASan: redzones and shadow on every block
#else
  constexpr uint64_t kPerConnection = 10 << 10;
#endif
  EXPECT_LT(growth, uint64_t{kIdle} * kPerConnection);
}

}  // namespace
}  // namespace ringside::e2e
