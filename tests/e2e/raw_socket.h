// Plain blocking TCP from tests that play a misbehaving client byte by byte (slowloris, stalled
// handshakes): connect, send exactly some bytes, read until the server closes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tests/e2e/harness.h"

namespace ringside::e2e {

// A listening socket on 127.0.0.1 with a port the kernel picks (written to *port), or -1.
int ListenLoopback(int backlog, uint16_t* port);

// A plain TCP connection to 127.0.0.1:port (blocking), or -1.
int ConnectRaw(uint16_t port);

// Sends all of `bytes`; false if the socket took less.
bool SendRaw(int fd, std::string_view bytes);

// Reads until the peer closes or resets (true, with everything it sent in *got) or the
// deadline passes (false).
bool ReadUntilClosed(int fd, Clock::time_point deadline, std::string* got);

}  // namespace ringside::e2e
