#pragma once
// Test-only helpers for the io tests: one shard's I/O (pool, ring, provided buffers) driven on
// the test thread with bounded waits, a handler that records every TcpConnection callback, and a
// plain non-blocking socket peer that the loop pumps between ring passes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "dataplane/io/buffer_ring.h"
#include "dataplane/io/io_context.h"
#include "dataplane/io/ring.h"
#include "dataplane/io/tcp_connection.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::io::testing {

// A deterministic, non-repeating byte pattern (so a lost or reordered chunk shows up).
inline std::string pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// One shard's I/O resources on the calling thread (the ring is SINGLE_ISSUER: create and drive
// it on the same thread).
class IoHarness {
 public:
  absl::Status init(unsigned buffer_count, unsigned buffer_size) {
    RingOptions options;
    options.entries = 256;
    if (absl::Status s = ring.init(options); !s.ok()) return s;
    if (absl::Status s = buffers.init(ring.raw(), 0, buffer_count, buffer_size); !s.ok()) return s;
    ctx.ring = &ring;
    ctx.buffers = &buffers;
    ctx.pool = &pool;
    ctx.flushes = &flushes;  // like a shard: sends start at the end of each pass
    return absl::OkStatus();
  }

  // Runs the loop until done() holds, at most timeout_ms and kMaxPasses passes. Counts the
  // -ENOBUFS completions it sees (evidence that the provided-buffer ring ran dry).
  bool run_until(const std::function<bool()>& done, int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (int pass = 0; pass < kMaxPasses; ++pass) {
      if (every_pass) every_pass();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      flush_runs += flushes.run();
      ring.submit_and_wait(kPassWaitNs);
      count_enobufs();
      ring.dispatch();
    }
    return done();
  }
  // Runs the loop for about `ms` milliseconds.
  void run_for(int ms) { run_until([] { return false; }, ms); }

  static constexpr int kMaxPasses = 200000;
  static constexpr int64_t kPassWaitNs = 5'000'000;

  mem::ShardPool pool;                // declared first: outlives every connection
  Ring ring;                          // the shard's io_uring
  BufferRing buffers;                 // destroyed before the ring it is registered with
  FlushList flushes;                  // dirty connections, run before each submit
  IoContext ctx;                      // what connections are given
  std::function<void()> every_pass;   // test hook run before each pass (pumps raw peers)
  uint64_t enobufs_seen = 0;          // -ENOBUFS completions observed
  uint64_t flush_runs = 0;            // dirty connections run at pass ends

 private:
  void count_enobufs() {
    unsigned head;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring.raw(), head, cqe) {
      if (cqe->res == -ENOBUFS) ++enobufs_seen;
    }
  }
};

// Records every callback of one TcpConnection; optional hooks act on them.
struct Recorder : TcpConnection::Handler {
  void on_connected(ByteStream& c, int err) override {
    events.push_back(std::string("connected:") + std::to_string(err));
    ++connected_calls;
    connect_err = err;
    if (closed_calls) ++after_close_calls;
    if (on_connected_hook) on_connected_hook(static_cast<TcpConnection&>(c), err);
  }
  void on_data(ByteStream& c, std::span<const uint8_t> bytes) override {
    ++data_calls;
    if (closed_calls) ++after_close_calls;
    received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (on_data_hook) on_data_hook(static_cast<TcpConnection&>(c), bytes);
  }
  void on_drained(ByteStream& c) override {
    events.push_back("drained");
    ++drained_calls;
    if (closed_calls) ++after_close_calls;
    if (on_drained_hook) on_drained_hook(static_cast<TcpConnection&>(c));
  }
  void on_closed(ByteStream& c, int err) override {
    events.push_back(std::string("closed:") + std::to_string(err));
    ++closed_calls;
    close_err = err;
    received_at_close = received.size();
    conn = nullptr;  // the object is freed right after this callback
  }

  TcpConnection* conn = nullptr;  // live connection (null once closed)
  std::string received;           // every byte handed to on_data, in order
  std::vector<std::string> events;  // connect / drained / closed, in order
  int connected_calls = 0;        // on_connected count
  int data_calls = 0;             // on_data count
  int drained_calls = 0;          // on_drained count
  int closed_calls = 0;           // on_closed count (must end at exactly 1)
  int after_close_calls = 0;      // callbacks after on_closed (must stay 0)
  int connect_err = 1;            // last on_connected err (1: never called)
  int close_err = 1;              // on_closed err (1: never called)
  size_t received_at_close = 0;   // bytes received when on_closed ran
  std::function<void(TcpConnection&, int)> on_connected_hook;
  std::function<void(TcpConnection&, std::span<const uint8_t>)> on_data_hook;
  std::function<void(TcpConnection&)> on_drained_hook;
};

// Appends bytes to a connection's output and flushes.
inline bool send_bytes(ByteStream& c, std::string_view bytes) {
  if (!c.out().append(bytes)) return false;
  c.flush();
  return true;
}

// A plain non-blocking TCP socket on the other end; pump() reads whatever has arrived.
struct RawPeer {
  ~RawPeer() {
    if (fd >= 0) ::close(fd);
  }
  bool connect_to(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
    return set_nonblocking();
  }
  bool set_nonblocking() { return ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0; }
  void pump() {
    if (fd < 0 || !reading) return;
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        received.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) eof = true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) error = errno;
      return;
    }
  }
  // Writes a message small enough for the socket buffer; false if it does not fit at once.
  bool write_all(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
      if (n < 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void close_now() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  int fd = -1;            // the socket
  bool reading = true;    // false: never read (to keep the sender's data in flight)
  std::string received;   // bytes read so far
  bool eof = false;       // orderly end of stream seen
  int error = 0;          // errno of a failed read (ECONNRESET ...)
};

}  // namespace ringside::io::testing
