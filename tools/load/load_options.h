// Command line of ringside-load.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::load {

struct LoadOptions {
  uint16_t port = 0;             // target port on 127.0.0.1 (from --url)
  std::string target = "/";      // path and query (from --url)
  std::string method = "GET";    // --method; GET unless a body is sent
  uint64_t requests = 1000;      // -n: total requests over all connections
  uint32_t connections = 1;      // -c: keep-alive connections, one thread each
  size_t body_size = 0;          // --body-size: bytes per request body
  std::chrono::milliseconds timeout{60'000};  // --timeout <seconds>: bound on the whole run
  std::vector<std::pair<std::string, std::string>> headers;  // --header "Name: value"
};

// Parses argv; errors name the offending flag.
absl::StatusOr<LoadOptions> ParseLoadOptions(int argc, char** argv);

// Splits "http://127.0.0.1:3500/path?q" into port and target (only http, only loopback hosts).
bool ParseUrl(std::string_view url, uint16_t* port, std::string* target);

}  // namespace ringside::load
