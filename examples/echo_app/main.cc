// ringside-echo-app --port P [--name N]: an HTTP/1.1 app for demos and end-to-end tests. The name
// (e.g. "east-h1") is answered by /whoami and in X-Echo-Name, so a multi-cluster test or demo
// can tell which instance answered a call.
// Threads and blocking sockets on purpose: this is the *app* behind a sidecar, kept simple so
// that what it reports about a request can be trusted. Routes: see echo_routes.h.
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <thread>

#include "absl/strings/numbers.h"
#include "examples/echo_app/echo_routes.h"
#include "tools/blocking_http/http_connection.h"
#include "tools/blocking_http/http_head.h"

namespace {

using ringside::blocking_http::BlockingHttpConnection;
using ringside::blocking_http::HasToken;
using ringside::blocking_http::kNoDeadline;

// Set once in main before any connection thread starts; read-only afterwards.
std::string g_name;

void ServeConnection(int fd) {
  BlockingHttpConnection conn(fd);
  for (;;) {
    auto request = conn.ReadRequestHead(kNoDeadline);
    if (!request.ok()) {
      if (absl::IsDataLoss(request.status())) {
        (void)conn.SendAll("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                           kNoDeadline);
      }
      return;
    }
    // Like Go's net/http: answer "Expect: 100-continue" before reading a body that has not
    // arrived yet.
    const bool has_body = !request->header("Content-Length").empty() ||
                          !request->header("Transfer-Encoding").empty();
    if (has_body && HasToken(request->header("Expect"), "100-continue") && conn.buffered() == 0) {
      if (!conn.SendAll("HTTP/1.1 100 Continue\r\n\r\n", kNoDeadline).ok()) return;
    }
    const bool close_after = HasToken(request->header("Connection"), "close") ||
                             request->token3 == "HTTP/1.0";
    if (uint64_t length = 0; ringside::echo_app::StreamsEcho(*request, &length)) {
      if (!ringside::echo_app::StreamEcho(conn, *request, length, g_name, close_after).ok() || close_after) return;
      continue;
    }
    if (!conn.ReadRequestBody(&*request, kNoDeadline).ok()) return;
    const auto response = ringside::echo_app::Route(*request, g_name);
    const std::string bytes =
        ringside::echo_app::Serialize(response, request->token1 == "HEAD", close_after);
    if (!conn.SendAll(bytes, kNoDeadline).ok() || close_after) return;
  }
}

int Listen(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1024) != 0) {
    std::fprintf(stderr, "ringside-echo-app: cannot listen on 127.0.0.1:%u: %s\n", port,
                 std::strerror(errno));
    std::exit(1);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--port" || arg == "-port") && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &port) &&
        port > 0 && port < 65536) {
      ++i;
    } else if ((arg == "--name" || arg == "-name") && i + 1 < argc) {
      g_name = argv[++i];
    } else {
      std::fprintf(stderr, "usage: ringside-echo-app --port P [--name N]   (bad argument: %s)\n", argv[i]);
      return 2;
    }
  }
  if (port == 0) {
    std::fprintf(stderr, "usage: ringside-echo-app --port P [--name N]\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  // SIGTERM/SIGINT end the app cleanly: nothing to flush, so exit at once.
  std::signal(SIGTERM, [](int) { _exit(0); });
  std::signal(SIGINT, [](int) { _exit(0); });
  const int listener = Listen(static_cast<uint16_t>(port));
  std::fprintf(stderr, "ringside-echo-app: listening on 127.0.0.1:%u\n", port);
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
      std::perror("accept");
      return 1;
    }
    std::thread(ServeConnection, fd).detach();
  }
}
