// Peer and listen addresses beyond IPv4: a peer registered at an IPv6 address is called over
// IPv6 (the internal port listens dual-stack by default), every --dapr-listen-addresses entry
// is served, IPv6 included, and target namespaces select instances where the registry has them. Needs IPv6 on loopback (::1); fails loudly without it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {
namespace {

// GET /v1.0/healthz over IPv6 loopback; the status line, or "" when nothing answered.
std::string HealthzOverIpv6(uint16_t port) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  a.sin6_port = htons(port);
  std::string line;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[512];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) line.assign(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return line.substr(0, line.find("\r\n"));
}

class AddressesTest : public ::testing::Test {
 protected:
  // The echo app and sidecar b in front of it, registered in b's own sqlite file (a never reads
  // it): a knows b only from the static list each test writes.
  void StartAppAndB() {
    uint16_t app_port = 0;
    auto app = StartEchoApp(dir_, &app_port);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = *std::move(app);
    auto b = StartSidecar({.app_id = "b", .app_port = app_port, .nr_db = dir_.File("b.db")}, dir_);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = *std::move(b);
  }
  // Starts sidecar a with a static registry listing `apps_yaml` (the `apps:` entries).
  absl::StatusOr<Sidecar> StartCaller(const std::string& apps_yaml) {
    const std::string config = dir_.File("a.yaml");
    std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: a}\n"
                             "spec:\n  nameResolution:\n    component: static\n    configuration:\n"
                             "      apps:\n"
                          << apps_yaml;
    return StartSidecar({.app_id = "a", .nr_db = dir_.File("a.db"), .extra_args = {"--config", config}}, dir_);
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> app_;  // the echo app behind b
  Sidecar b_;                          // sidecar b
};

TEST_F(AddressesTest, APeerRegisteredAtAnIpv6AddressIsCalledOverIpv6) {
  ASSERT_NO_FATAL_FAILURE(StartAppAndB());
  auto a = StartCaller(absl::StrCat("        - {appId: b, address: \"[::1]:", b_.ports.internal, "\"}\n"));
  ASSERT_TRUE(a.ok()) << a.status();
  auto r = Invoke(a->ports.http, "POST", "b", "echo", "over six");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200) << r->body << "\n" << a->process->LogTail();
  EXPECT_EQ(r->body, "over six");
  // The peer really saw an IPv6 connection: its internal port is the only way in, and the
  // static list names only ::1 (an IPv4-only listener would have refused it).
}

TEST_F(AddressesTest, TheTargetNamespaceIsHonouredAndDefaultsToTheCallersOwn) {
  ASSERT_NO_FATAL_FAILURE(StartAppAndB());
  // b in "default" is the live sidecar; b in "prod" points at a port nobody listens on.
  auto a = StartCaller(absl::StrCat(
      "        - {appId: b, namespace: default, address: \"127.0.0.1:", b_.ports.internal, "\"}\n",
      "        - {appId: b, namespace: prod, address: \"127.0.0.1:", PickFreePort(), "\"}\n"));
  ASSERT_TRUE(a.ok()) << a.status();
  // No namespace: the caller's own ("default"), every time (round robin over both would reach
  // the dead one on every other call).
  for (int i = 0; i < 6; ++i) {
    auto r = Invoke(a->ports.http, "POST", "b", "echo", "home");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200) << r->body;
  }
  auto r = Invoke(a->ports.http, "POST", "b.default", "echo", "named");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 200) << r->body;
  r = Invoke(a->ports.http, "POST", "b.prod", "echo", "elsewhere", {}, 15s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;  // only the dead prod instance is eligible
  r = Invoke(a->ports.http, "POST", "b.staging", "echo", "nowhere");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500);
  EXPECT_NE(r->body.find("no host found"), std::string::npos) << r->body;
}

TEST_F(AddressesTest, EveryListenAddressIsServedIpv6Included) {
  auto s = StartSidecar({.app_id = "x", .nr_db = dir_.File("x.db"),
                         .extra_args = {"--dapr-listen-addresses", "127.0.0.1,::1"}},
                        dir_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(HealthzOverIpv6(s->ports.http), "HTTP/1.1 204 No Content") << s->process->LogTail();
  EXPECT_TRUE(WaitForHealthz(s->ports.http, 5s));  // and IPv4 still
}

TEST_F(AddressesTest, AListenAddressThatIsNotAnIpExits2) {
  auto s = ChildProcess::Spawn(BinPath("ringsided"),
                               {"--app-id", "x", "--dapr-listen-addresses", "127.0.0.1,not-an-ip", "--shards", "1",
                                "--dapr-http-port", absl::StrCat(PickFreePort()), "--metrics-port",
                                absl::StrCat(PickFreePort())},
                               {absl::StrCat("RINGSIDE_NR_SQLITE=", dir_.File("y.db"))}, dir_.File("y.log"));
  ASSERT_TRUE(s.ok()) << s.status();
  auto code = (*s)->WaitExit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE((*s)->Log().find("not-an-ip"), std::string::npos) << (*s)->Log();
}

}  // namespace
}  // namespace ringside::e2e
