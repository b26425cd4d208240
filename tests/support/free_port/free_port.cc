#include "tests/support/free_port/free_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

namespace ringside::testing {
namespace {

// Shared by every test process; not under TMPDIR, which differs between tests.
constexpr const char* kCounterFile = "/tmp/ringside-test-port-counter";
constexpr uint32_t kLowest = 20000;
constexpr uint32_t kFewestUsable = 2000;

uint32_t EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  uint32_t low = 0;
  uint32_t high = 0;
  if (in >> low >> high) return low;
  return 32768;
}

bool FreeOnAllAddresses(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(port);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return free;
}

// The kernel's own choice (bind to 0): the fallback when the range below the ephemeral ports is
// too small to be worth sharing.
uint16_t KernelChosenPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

uint16_t PickTestPort() {
  const uint32_t high = EphemeralLow();  // exclusive
  if (high < kLowest + kFewestUsable || high > 65536) return KernelChosenPort();
  const uint32_t span = high - kLowest;

  const int fd = ::open(kCounterFile, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return KernelChosenPort();
  if (::flock(fd, LOCK_EX) != 0) {
    ::close(fd);
    return KernelChosenPort();
  }
  char text[16] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  uint32_t next = 0;
  if (n > 0) {
    next = static_cast<uint32_t>(std::strtoul(text, nullptr, 10));
  } else {
    next = std::random_device{}() % span;  // a first pass starts anywhere in the range
  }
  uint16_t chosen = 0;
  for (uint32_t tried = 0; tried < span && chosen == 0; ++tried) {
    const auto port = static_cast<uint16_t>(kLowest + next % span);
    next = (next + 1) % span;
    if (FreeOnAllAddresses(port)) chosen = port;
  }
  const int len = std::snprintf(text, sizeof text, "%u\n", next);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text, static_cast<size_t>(len), 0) != len) {
    // The port is still good; the next caller may repeat part of the pass, which the bind check
    // above makes harmless unless the port is unbound at that moment.
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return chosen;
}

}  // namespace ringside::testing
