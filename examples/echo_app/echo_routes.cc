#include "examples/echo_app/echo_routes.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"

namespace ringside::echo_app {
namespace {

// Requests answered so far, /served excluded (connections are served by many threads).
std::atomic<uint64_t> g_served{0};
// Requests being answered right now, and the most seen at once (/peak; /served and /peak are
// not counted): what a test of --app-max-concurrency reads.
std::atomic<int64_t> g_active{0};
std::atomic<int64_t> g_peak{0};

struct ActiveRequest {
  ActiveRequest() {
    const int64_t now = g_active.fetch_add(1) + 1;
    int64_t peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
  }
  ~ActiveRequest() { g_active.fetch_sub(1); }
};

std::string_view ReasonFor(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

void AddRequestEcho(const blocking_http::HttpMessage& req, absl::string_view path,
                    absl::string_view query, EchoResponse* r) {
  r->headers.emplace_back("X-Echo-Method", req.token1);
  r->headers.emplace_back("X-Echo-Path", std::string(path));
  r->headers.emplace_back("X-Echo-Query", std::string(query));
  r->headers.emplace_back("X-Echo-Body-Length", absl::StrCat(req.body.size()));
}

std::string InspectJson(const blocking_http::HttpMessage& req, absl::string_view path,
                        absl::string_view query) {
  std::string out = absl::StrCat("{\n  \"method\": ", JsonQuote(req.token1), ",\n  \"path\": ",
                                 JsonQuote({path.data(), path.size()}), ",\n  \"query\": ", JsonQuote({query.data(), query.size()}),
                                 ",\n  \"headers\": [");
  for (size_t i = 0; i < req.headers.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "\n" : ",\n", "    [", JsonQuote(req.headers[i].first), ", ",
                    JsonQuote(req.headers[i].second), "]");
  }
  absl::StrAppend(&out, "\n  ],\n  \"bodyLength\": ", req.body.size(), ",\n  \"chunked\": ",
                  req.chunked ? "true" : "false", "\n}\n");
  return out;
}

}  // namespace

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u >= 0x7f) {
      absl::StrAppendFormat(&out, "\\u%04x", u);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

EchoResponse Route(const blocking_http::HttpMessage& req, std::string_view name) {
  const absl::string_view target = req.token2;
  const size_t q = target.find('?');
  const absl::string_view path = target.substr(0, q);
  const absl::string_view query = q == absl::string_view::npos ? "" : target.substr(q + 1);
  EchoResponse r;
  int number = 0;
  std::optional<ActiveRequest> active;
  if (path != "/served" && path != "/peak") active.emplace();
  if (absl::StartsWith(path, "/status/") && absl::SimpleAtoi(path.substr(8), &number) &&
      number >= 200 && number <= 599) {
    r.status = number;
    r.reason = ReasonFor(number);
    r.headers.emplace_back("X-App-Status", absl::StrCat(number));
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = absl::StrCat("status ", number);
  } else if (absl::StartsWith(path, "/sleep/") && absl::SimpleAtoi(path.substr(7), &number) &&
             number >= 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(number, 60'000)));
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = absl::StrCat("slept ", number);
  } else if (path == "/peak") {
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = absl::StrCat(g_peak.load(std::memory_order_relaxed));
    return r;
  } else if (path == "/served") {
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = absl::StrCat(g_served.load(std::memory_order_relaxed));
    AddRequestEcho(req, path, query, &r);
    return r;
  } else if (path == "/whoami") {
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = std::string(name);
  } else if (path == "/inspect") {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = InspectJson(req, path, query);
  } else {
    const std::string_view type = req.header("Content-Type");
    if (!type.empty()) r.headers.emplace_back("Content-Type", std::string(type));
    r.body = req.body;
  }
  g_served.fetch_add(1, std::memory_order_relaxed);
  AddRequestEcho(req, path, query, &r);
  if (!name.empty()) r.headers.emplace_back("X-Echo-Name", std::string(name));
  return r;
}

std::string Serialize(const EchoResponse& response, bool head_request, bool close_after) {
  std::string out = absl::StrCat("HTTP/1.1 ", response.status, " ", response.reason, "\r\n");
  for (const auto& [name, value] : response.headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  absl::StrAppend(&out, "Content-Length: ", response.body.size(), "\r\n");
  if (close_after) absl::StrAppend(&out, "Connection: close\r\n");
  absl::StrAppend(&out, "\r\n");
  if (!head_request) absl::StrAppend(&out, response.body);
  return out;
}

}  // namespace ringside::echo_app
