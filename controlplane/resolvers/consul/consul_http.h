// HTTP/1.1 requests to the Consul agent over libcurl. A ConsulRequest is one request; it runs
// blocking (perform(), for registration) or inside a curl multi handle (the resolver's
// worker thread, for lookups and blocking-query watches). Control plane only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/resolvers/consul/consul_options.h"

typedef void CURL;
struct curl_slist;

namespace ringside::resolvers::consul {

struct Response {
  long status = 0;                     // HTTP status code
  std::string body;                    // response body
  std::optional<uint64_t> index;       // X-Consul-Index, when present and numeric
};

using Params = std::vector<std::pair<std::string, std::string>>;

// "http://<address><prefix><path>?<params>": the client's dc/ns/partition/wait first, then
// `params` (a later key replaces an earlier one, as url.Values.Set); keys sorted, values
// query-escaped, as Go's url.Values.Encode.
std::string build_url(const ClientOptions& client, std::string_view path, const Params& params);

// Percent-escapes one path segment (an app id in /v1/health/service/<app>).
std::string escape_path_segment(std::string_view s);

class ConsulRequest {
 public:
  // method "GET" or "PUT"; body "" = none (else sent as application/json). `token` overrides
  // the client's X-Consul-Token when non-empty. `timeout` bounds the whole request. `label`
  // names the request in errors instead of the URL (blocking queries leave out index/wait so
  // that one outage reads the same on every retry).
  ConsulRequest(const ClientOptions& client, std::string method, std::string url, std::string body,
                std::string_view token, std::string_view cache_control, std::chrono::milliseconds timeout,
                std::string_view label = {});
  ~ConsulRequest();
  ConsulRequest(const ConsulRequest&) = delete;
  ConsulRequest& operator=(const ConsulRequest&) = delete;

  CURL* handle() const { return curl_; }
  // Runs the request to completion on this thread.
  absl::StatusOr<Response> perform();
  // The outcome once the multi handle reported `curl_code` (a CURLcode) for this request.
  // Errors name the method and URL; non-2xx answers carry the status and the start of the body.
  absl::StatusOr<Response> result(int curl_code);
  // "GET http://127.0.0.1:8500/v1/health/service/app?passing=1"
  const std::string& what() const { return what_; }

 private:
  static size_t on_body(char* data, size_t size, size_t n, void* self);
  static size_t on_header(char* data, size_t size, size_t n, void* self);

  CURL* curl_ = nullptr;            // the easy handle
  curl_slist* headers_ = nullptr;   // request headers (token, content type, cache control)
  std::string body_out_;            // request body (curl reads it in place)
  std::string what_;                // method and URL, for errors
  std::string userpwd_;             // basic auth "user:password"
  Response response_;               // filled while the transfer runs
  char error_[256] = {};            // CURLOPT_ERRORBUFFER
};

}  // namespace ringside::resolvers::consul
