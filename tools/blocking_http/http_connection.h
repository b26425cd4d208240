// A blocking HTTP/1.1 connection over a TCP socket with deadlines on every wait.
// Used from outside the sidecar (example app, load generator, end-to-end tests), so it owns
// std::string storage freely; every wait is bounded by the caller's deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringside::blocking_http {

using Clock = std::chrono::steady_clock;
// No deadline: wait for as long as it takes (only the example app uses this).
inline constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

// One HTTP/1.1 request or response with owned storage.
struct HttpMessage {
  std::string token1;  // request: method; response: HTTP version
  std::string token2;  // request: target; response: status code
  std::string token3;  // request: HTTP version; response: reason phrase
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order, case kept
  std::string body;    // decoded body (chunked framing removed)
  bool chunked = false;  // the body arrived with Transfer-Encoding: chunked

  // Response status code, or -1 if token2 is not a number.
  int status() const;
  // First value of the header `name` (case-insensitive), empty if absent.
  std::string_view header(std::string_view name) const;
  // Number of header lines named `name` (case-insensitive).
  size_t header_count(std::string_view name) const;
};

// What to send: BuildRequest() adds Host and, unless told otherwise, Content-Length.
struct RequestSpec {
  std::string method = "GET";  // request method
  std::string target = "/";    // path and query as sent on the request line
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, in order
  std::string body;            // request body
  bool content_length = true;  // add "Content-Length: <body size>"
};
std::string BuildRequest(const RequestSpec& spec);

// Framing rule for a response body, decided from the request that caused it.
enum class ResponseTo { kOther, kHead };

class BlockingHttpConnection {
 public:
  BlockingHttpConnection() = default;
  // Adopts an accepted socket (server side).
  explicit BlockingHttpConnection(int fd) : fd_(fd) {}
  ~BlockingHttpConnection();
  BlockingHttpConnection(BlockingHttpConnection&& other) noexcept;
  BlockingHttpConnection& operator=(BlockingHttpConnection&& other) noexcept;
  BlockingHttpConnection(const BlockingHttpConnection&) = delete;
  BlockingHttpConnection& operator=(const BlockingHttpConnection&) = delete;

  // Connects to 127.0.0.1:port (TCP_NODELAY).
  absl::Status Connect(uint16_t port, Clock::time_point deadline);
  absl::Status SendAll(std::string_view bytes, Clock::time_point deadline);

  // Reads one response. With skip_interim, 1xx responses are read and dropped.
  absl::StatusOr<HttpMessage> ReadResponse(Clock::time_point deadline,
                                           ResponseTo to = ResponseTo::kOther,
                                           bool skip_interim = true);
  // Reads a request head only; ReadRequestBody() completes it (lets a server answer
  // "Expect: 100-continue" in between).
  absl::StatusOr<HttpMessage> ReadRequestHead(Clock::time_point deadline);
  absl::Status ReadRequestBody(HttpMessage* request, Clock::time_point deadline);
  // Reads the next `length` bytes of a body and hands them to `sink` piece by piece (the bytes
  // already buffered first, then each recv of up to 256 KiB) without holding the body: an app
  // that echoes gigabytes answers as it reads, as Go's io.Copy(w, r.Body) does. Stops at the
  // first error of the connection or of the sink.
  absl::Status StreamBody(uint64_t length, Clock::time_point deadline,
                          absl::FunctionRef<absl::Status(std::string_view)> sink);
  // Bytes already received beyond what has been parsed.
  size_t buffered() const { return buffer_.size(); }

  // Waits until the peer closes (true) or the deadline passes or data arrives (false).
  bool WaitForPeerClose(Clock::time_point deadline);

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void Close();

 private:
  absl::StatusOr<HttpMessage> ReadHead(Clock::time_point deadline);
  absl::Status ReadBody(HttpMessage* message, bool chunked, uint64_t length, bool until_close,
                        Clock::time_point deadline);
  absl::Status ReadChunkedBody(HttpMessage* message, Clock::time_point deadline);
  // Appends at least one byte to buffer_; OutOfRange on orderly close.
  absl::Status Fill(Clock::time_point deadline);

  int fd_ = -1;         // socket, -1 when closed
  std::string buffer_;  // received bytes not yet consumed
};

// Connect, send one request, read one response, close.
absl::StatusOr<HttpMessage> RoundTrip(uint16_t port, const RequestSpec& spec,
                                      std::chrono::milliseconds timeout);

}  // namespace ringside::blocking_http
