// The HTTP probe against a one-shot local server: the status it reads, 2xx as healthy, and a
// failure (-1) when nothing answers in time or the answer is not HTTP.
#include "controlplane/apphealth/http_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <thread>

namespace ringside::apphealth {
namespace {

using namespace std::chrono_literals;

// Listens on 127.0.0.1; answers one connection with `answer` (after reading the request head),
// or never answers when `answer` is empty. Records the request head.
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    address_ = a;
    thread_ = std::thread([this] {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[2048];
      while (head_.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head_.append(buf, static_cast<size_t>(n));
      }
      if (!answer_.empty()) (void)!send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      else {
        timeval tv{2, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void)!recv(c, buf, sizeof buf, 0);  // until the probe gives up and closes
      }
      close(c);
    });
  }
  ~OneShotServer() { Join(); close(fd_); }
  // Ends the server (after its one connection) so head() can be read.
  void Join() {
    shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  HttpProbeTarget target() const { return {address_, "127.0.0.1:1", "/healthz", "tok"}; }
  const std::string& head() const { return head_; }

 private:
  std::string answer_;   // bytes sent back ("" = never answer)
  int fd_ = -1;          // listening socket
  sockaddr_in address_{};  // bound address
  std::string head_;     // request head received
  std::thread thread_;   // serves the one connection
};

TEST(HttpProbeTest, ReadsTheStatus) {
  OneShotServer s("HTTP/1.1 204 No Content\r\n\r\n");
  const int status = http_probe_status(s.target(), 2s);
  EXPECT_EQ(status, 204);
  EXPECT_TRUE(http_status_is_healthy(status));
}

TEST(HttpProbeTest, RequestLineCarriesThePathAndAppToken) {
  OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(http_probe_status(s.target(), 2s), 200);
  s.Join();
  EXPECT_EQ(s.head().rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << s.head();
  EXPECT_NE(s.head().find("dapr-api-token: tok\r\n"), std::string::npos) << s.head();
}

TEST(HttpProbeTest, ServerErrorAndRedirectAreUnhealthy) {
  {
    OneShotServer s("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    const int st = http_probe_status(s.target(), 2s);
    EXPECT_EQ(st, 500);
    EXPECT_FALSE(http_status_is_healthy(st));
  }
  OneShotServer s("HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\n\r\n");
  EXPECT_FALSE(http_status_is_healthy(http_probe_status(s.target(), 2s)));
}

TEST(HttpProbeTest, GarbageIsAFailure) {
  OneShotServer s("SSH-2.0-OpenSSH_9.2\r\n");
  EXPECT_EQ(http_probe_status(s.target(), 2s), -1);
}

TEST(HttpProbeTest, SilenceEndsAtTheTimeout) {
  OneShotServer s("");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(http_probe_status(s.target(), 200ms), -1);
  std::cout << "silent app: probe gave up after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()
            << " ms (timeout 200 ms)\n";
}

TEST(HttpProbeTest, RefusedConnectionIsAFailure) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  close(fd);  // bound then closed: nothing listens there
  EXPECT_EQ(http_probe_status({a, "x", "/healthz", ""}, 1s), -1);
}

}  // namespace
}  // namespace ringside::apphealth
