// What ringside-echo-app's /inspect route reports about the request it received.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringside::e2e {

struct InspectedRequest {
  std::string method;  // request method as the app saw it
  std::string path;    // path as received (still percent-encoded)
  std::string query;   // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // every header line, in order
  double body_length = 0;  // body bytes received
  bool chunked = false;    // the body arrived chunked

  // All values of header `name` (case-insensitive), comma-separated lists split and trimmed.
  std::vector<std::string> Values(std::string_view name) const;
  bool Has(std::string_view name) const { return !Values(name).empty(); }
  std::string First(std::string_view name) const;
};

// Parses the /inspect JSON body; nullopt if it is not what the echo app writes.
std::optional<InspectedRequest> ParseInspectedRequest(const std::string& json);

}  // namespace ringside::e2e
