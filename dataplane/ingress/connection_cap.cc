#include "dataplane/ingress/connection_cap.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string_view>

#include "dataplane/runtime/sidecar_settings.h"

namespace ringside::invoke {
namespace {

constexpr std::string_view kHttpRefusal =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\n"
    "Content-Length: 54\r\n"
    "\r\n"
    "too many connections (--max-connections); retry later\n";
static_assert(std::string_view("too many connections (--max-connections); retry later\n").size() == 54);

// Empty SETTINGS, then GOAWAY(last stream 0, ENHANCE_YOUR_CALM = 0xb, "too many connections").
constexpr char kHttp2Refusal[] =
    "\x00\x00\x00\x04\x00\x00\x00\x00\x00"                      // SETTINGS, 0 bytes
    "\x00\x00\x1c\x07\x00\x00\x00\x00\x00"                      // GOAWAY, 28 bytes, stream 0
    "\x00\x00\x00\x00"                                          // last stream id 0
    "\x00\x00\x00\x0b"                                          // ENHANCE_YOUR_CALM
    "too many connections";                                     // debug data (20 bytes)
static_assert(sizeof(kHttp2Refusal) - 1 == 9 + 9 + 8 + 20);

// Empty SETTINGS, then GOAWAY(last stream 0, NO_ERROR, "draining").
constexpr char kHttp2Draining[] =
    "\x00\x00\x00\x04\x00\x00\x00\x00\x00"                      // SETTINGS, 0 bytes
    "\x00\x00\x10\x07\x00\x00\x00\x00\x00"                      // GOAWAY, 16 bytes, stream 0
    "\x00\x00\x00\x00"                                          // last stream id 0
    "\x00\x00\x00\x00"                                          // NO_ERROR
    "draining";                                                 // debug data (8 bytes)
static_assert(sizeof(kHttp2Draining) - 1 == 9 + 9 + 8 + 8);

// Sends the answer, then closes without a reset: whatever the client already sent is read and
// dropped first (close() with unread bytes sends RST, which can destroy the answer before
// the client reads it). Non-blocking throughout; bytes arriving after the close can still
// reset, but the answer is out by then.
void answer_and_close(int fd, std::string_view answer) {
  (void)::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  char sink[4096];
  for (int i = 0; i < 16 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
  }
  ::close(fd);
}

}  // namespace

void refuse_draining(int fd) {
  answer_and_close(fd, std::string_view(kHttp2Draining, sizeof(kHttp2Draining) - 1));
}

bool refuse_if_full(ShardServices* svc, int fd, ConnectionRefusal how) {
  if (svc->live.size() < svc->settings->max_connections) return false;
  // A fresh socket's send buffer is empty: this non-blocking send completes or fails at once,
  // and a refusal has nothing to wait for, so it stays off the ring on purpose.
  const std::string_view answer = how == ConnectionRefusal::kHttp1
                                      ? kHttpRefusal
                                      : std::string_view(kHttp2Refusal, sizeof(kHttp2Refusal) - 1);
  // Counted before the answer leaves: a client that reads the 503 and then the metrics must
  // find it counted.
  shard::ShardCounters::bump(svc->counters->connections_refused);
  answer_and_close(fd, answer);
  return true;
}

}  // namespace ringside::invoke
