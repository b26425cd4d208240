#include "controlplane/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace ringside::metrics {
namespace {

using namespace std::chrono_literals;

int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  return fd;
}

// Sends `request` and reads until the server closes.
std::string round_trip(uint16_t port, const std::string& request) {
  int fd = connect_to(port);
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(MetricsServerTest, ServesMetricsAnd404) {
  MetricsServer server([] { return std::string("ringside_up 1\n"); });
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());
  ASSERT_NE(server.port(), 0);
  std::string ok = round_trip(server.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(ok.find("Content-Length: 14\r\n"), std::string::npos);
  EXPECT_EQ(ok.substr(ok.size() - 14), "ringside_up 1\n");

  EXPECT_EQ(round_trip(server.port(), "GET /other HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(round_trip(server.port(), "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(round_trip(server.port(), "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(round_trip(server.port(), std::string(10000, 'A')).rfind("HTTP/1.1 431", 0), 0u);
  server.stop();
  server.stop();
}

TEST(MetricsServerTest, BindFailureNamesThePort) {
  MetricsServer first([] { return std::string(); });
  ASSERT_TRUE(first.start("127.0.0.1", 0).ok());
  MetricsServer second([] { return std::string(); });
  absl::Status s = second.start("127.0.0.1", first.port());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "metrics port " + std::to_string(first.port()) + " is already in use");
  EXPECT_FALSE(MetricsServer([] { return std::string(); }).start("not-an-ip", 0).ok());
}

TEST(MetricsServerTest, SlowClientIsCutOffAndOthersAreServed) {
  MetricsServer server([] { return std::string("x 1\n"); }, 200ms);
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());
  int idle = connect_to(server.port());  // sends nothing
  const auto t0 = std::chrono::steady_clock::now();
  std::string ok = round_trip(server.port(), "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  close(idle);
}

}  // namespace
}  // namespace ringside::metrics
