// The routes of the example app: what it answers to one HTTP request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/blocking_http/http_connection.h"

namespace ringside::echo_app {

// A response to write back; Content-Length is added when it is serialized.
struct EchoResponse {
  int status = 200;                                          // HTTP status code
  std::string reason = "OK";                                 // reason phrase
  std::vector<std::pair<std::string, std::string>> headers;  // response headers, in order
  std::string body;                                          // response body
};

// Routes (path without query):
//   /status/<code>  -> that status, body "status <code>", header X-App-Status: <code>
//   /sleep/<ms>     -> sleeps <ms> (at most 60 s), then 200 "slept <ms>"
//   /inspect        -> 200, JSON {"method","path","query","headers":[[name,value]...],
//                      "bodyLength","chunked"} describing the request as received
//   anything else   -> 200 echo: body = request body, Content-Type = request's, plus
//                      X-Echo-Method, X-Echo-Path, X-Echo-Query, X-Echo-Body-Length
//   /whoami         -> 200, body = the app's --name (multi-cluster tests and demos: which
//                      instance answered), Content-Type text/plain
//   /served         -> 200, body = how many requests this process answered before, /served
//                      ones excluded (a test checks that every instance received a broadcast)
//   /peak           -> 200, body = the most requests answered at once so far (/served, /peak
//                      not counted; the --app-max-concurrency test reads it)
// Every response also carries X-Echo-Method and X-Echo-Path, so headers of HEAD requests
// and of error routes can be checked too, and X-Echo-Name: <name> when the app has a name.
EchoResponse Route(const blocking_http::HttpMessage& request, std::string_view name = {});

// Bodies at least this large are echoed as they arrive instead of read whole first.
inline constexpr uint64_t kStreamedEchoFrom = 1 << 20;

// Whether the request whose head is `head` goes to the echo route with a Content-Length body
// of at least kStreamedEchoFrom bytes (then *length is set): such a body is streamed back by
// StreamEcho as it arrives, as a Go handler doing io.Copy(w, r.Body) would, so a 64 MiB echo
// costs the app a recv and a send per piece instead of five copies into fresh memory.
bool StreamsEcho(const blocking_http::HttpMessage& head, uint64_t* length);
// Answers such a request: the echo route's headers (X-Echo-Body-Length: length), then the body
// piece by piece as it is read from `conn`.
absl::Status StreamEcho(blocking_http::BlockingHttpConnection& conn, const blocking_http::HttpMessage& head,
                        uint64_t length, std::string_view name, bool close_after);

// The status line and headers of a response whose body has body_length bytes.
std::string SerializeHead(const EchoResponse& response, uint64_t body_length, bool close_after);
// Serializes a response (status line, headers, Content-Length, body; no body for HEAD).
std::string Serialize(const EchoResponse& response, bool head_request, bool close_after);

// JSON string literal for arbitrary bytes ("\u00XX" for control and non-ASCII bytes).
std::string JsonQuote(std::string_view s);

}  // namespace ringside::echo_app
