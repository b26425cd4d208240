// An HTTP/2 client that lets a test misbehave the way grpc++ never would: grant any window and
// stop reading, open a stream and never finish its message, declare a 4 GiB gRPC message and send
// 100 bytes of it. nghttp2 frames the bytes; the test decides what is sent and when it is read.
// One blocking socket, driven only from Pump() (no threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

struct nghttp2_session;

namespace ringside::e2e {

class RawH2Client {
 public:
  // What one stream has received so far.
  struct Stream {
    std::string body;              // response DATA bytes
    std::string status;            // :status
    std::string grpc_status;       // grpc-status (from headers or trailers; "" if none yet)
    std::string grpc_message;      // grpc-message
    bool closed = false;           // the stream ended (END_STREAM both ways or RST_STREAM)
    uint32_t reset_code = 0;       // RST_STREAM error code when the stream was reset
    std::string request;           // request body bytes still owned by the client
    size_t request_sent = 0;       // how much of `request` nghttp2 took
    bool end_stream = true;        // END_STREAM after `request` (false: the stream stays open)
  };

  // Connects to 127.0.0.1:port and sends the preface and SETTINGS with the given stream window
  // (and the same connection window).
  static absl::StatusOr<std::unique_ptr<RawH2Client>> Connect(uint16_t port, int32_t window = 65535);
  ~RawH2Client();
  RawH2Client(const RawH2Client&) = delete;
  RawH2Client& operator=(const RawH2Client&) = delete;

  // Opens a POST stream to `path` with the gRPC request headers plus `metadata`, and queues
  // `body` as its DATA; with end_stream false the stream stays open after it. -1 on failure.
  int32_t OpenGrpc(std::string_view path, const std::vector<std::pair<std::string, std::string>>& metadata,
                   std::string body, bool end_stream);

  // Sends what is queued and reads what arrives, until `done()` is true, the connection fails,
  // or `limit` passes. Returns done()'s last value.
  bool Pump(std::chrono::milliseconds limit, const std::function<bool()>& done);

  // Sends what is queued without reading.
  bool Flush();

  const Stream& stream(int32_t id) const { return streams_.at(id); }
  bool alive() const { return alive_; }
  std::string host() const;  // "127.0.0.1:<port>", the :authority

 private:
  explicit RawH2Client(int fd, uint16_t port);

  int fd_ = -1;                         // the blocking socket
  uint16_t port_ = 0;                   // the server's port
  nghttp2_session* session_ = nullptr;  // our client session
  std::map<int32_t, Stream> streams_;   // by stream id
  bool alive_ = true;                   // false once the socket failed or the session ended
  friend struct RawH2ClientCallbacks;
};

// A gRPC message on the wire: the 5-byte prefix (uncompressed, length) and the bytes.
std::string GrpcFrame(std::string_view message);

// A 5-byte gRPC prefix that declares `length` bytes (the test sends fewer, or none).
std::string GrpcPrefix(uint32_t length);

// Whole gRPC messages in `body`, in order; a partial tail is left out.
std::vector<std::string> GrpcMessages(const std::string& body);

}  // namespace ringside::e2e
