#include "examples/echo_app/echo_routes.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "tools/blocking_http/http_head.h"

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
                    absl::string_view query, uint64_t body_length, EchoResponse* r) {
  r->headers.emplace_back("X-Echo-Method", req.token1);
  r->headers.emplace_back("X-Echo-Path", std::string(path));
  r->headers.emplace_back("X-Echo-Query", std::string(query));
  r->headers.emplace_back("X-Echo-Body-Length", absl::StrCat(body_length));
}

// The request target's path and query ("" when there is none).
std::pair<absl::string_view, absl::string_view> SplitTarget(const blocking_http::HttpMessage& req) {
  const absl::string_view target = req.token2;
  const size_t q = target.find('?');
  return {target.substr(0, q), q == absl::string_view::npos ? "" : target.substr(q + 1)};
}

bool IsSpecialPath(absl::string_view path) {
  return absl::StartsWith(path, "/status/") || absl::StartsWith(path, "/sleep/") || path == "/peak" ||
         path == "/served" || path == "/whoami" || path == "/inspect";
}

// The echo route's answer without its body: the request's Content-Type, the request echo
// headers for a body of `body_length` bytes, the app's name. Counts the request as served.
EchoResponse EchoHead(const blocking_http::HttpMessage& req, uint64_t body_length, std::string_view name) {
  const auto [path, query] = SplitTarget(req);
  EchoResponse r;
  const std::string_view type = req.header("Content-Type");
  if (!type.empty()) r.headers.emplace_back("Content-Type", std::string(type));
  g_served.fetch_add(1, std::memory_order_relaxed);
  AddRequestEcho(req, path, query, body_length, &r);
  if (!name.empty()) r.headers.emplace_back("X-Echo-Name", std::string(name));
  return r;
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

bool StreamsEcho(const blocking_http::HttpMessage& head, uint64_t* length) {
  if (head.token1 == "HEAD" || !head.header("Transfer-Encoding").empty()) return false;
  const std::string_view cl = head.header("Content-Length");
  uint64_t n = 0;
  if (cl.empty() || !blocking_http::ParseContentLength(cl, &n) || n < kStreamedEchoFrom) return false;
  if (IsSpecialPath(SplitTarget(head).first)) return false;
  *length = n;
  return true;
}

absl::Status StreamEcho(blocking_http::BlockingHttpConnection& conn, const blocking_http::HttpMessage& head,
                        uint64_t length, std::string_view name, bool close_after) {
  ActiveRequest active;
  const std::string bytes = SerializeHead(EchoHead(head, length, name), length, close_after);
  if (absl::Status s = conn.SendAll(bytes, blocking_http::kNoDeadline); !s.ok()) return s;
  return conn.StreamBody(length, blocking_http::kNoDeadline,
                         [&](std::string_view piece) { return conn.SendAll(piece, blocking_http::kNoDeadline); });
}

EchoResponse Route(const blocking_http::HttpMessage& req, std::string_view name) {
  const auto [path, query] = SplitTarget(req);
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
    AddRequestEcho(req, path, query, req.body.size(), &r);
    return r;
  } else if (path == "/whoami") {
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = std::string(name);
  } else if (path == "/inspect") {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = InspectJson(req, path, query);
  } else {
    r = EchoHead(req, req.body.size(), name);
    r.body = req.body;
    return r;
  }
  g_served.fetch_add(1, std::memory_order_relaxed);
  AddRequestEcho(req, path, query, req.body.size(), &r);
  if (!name.empty()) r.headers.emplace_back("X-Echo-Name", std::string(name));
  return r;
}

std::string SerializeHead(const EchoResponse& response, uint64_t body_length, bool close_after) {
  std::string out = absl::StrCat("HTTP/1.1 ", response.status, " ", response.reason, "\r\n");
  for (const auto& [name, value] : response.headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  absl::StrAppend(&out, "Content-Length: ", body_length, "\r\n");
  if (close_after) absl::StrAppend(&out, "Connection: close\r\n");
  absl::StrAppend(&out, "\r\n");
  return out;
}

std::string Serialize(const EchoResponse& response, bool head_request, bool close_after) {
  std::string out = SerializeHead(response, response.body.size(), close_after);
  if (!head_request) absl::StrAppend(&out, response.body);
  return out;
}

}  // namespace ringside::echo_app
