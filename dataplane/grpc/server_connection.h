#pragma once
// GrpcServerConnection: the server side of one h2c connection carrying unary gRPC calls,
// driven sans-IO (the shard's io_uring connection pumps bytes through feed()/flush_to()).
//
// Per call: request HEADERS → validated (POST, application/grpc[+proto], grpc-timeout) →
// DATA reassembled into one message → END_STREAM → handler->on_unary_request(). The handler
// answers with respond() now or later; RST_STREAM or a closed connection before that gives
// on_call_cancelled(). Framework errors (405, 415, RESOURCE_EXHAUSTED, INTERNAL,
// UNIMPLEMENTED for compression) are answered here without reaching the handler.
//
// Owned by one shard thread; every allocation comes from the pool given to the constructor,
// call objects are recycled through a free list.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/grpc/metadata.h"
#include "dataplane/grpc/pod_vector.h"
#include "dataplane/http2/session.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::grpc {

// Connection generation (high 32 bits) and HTTP/2 stream id (low 32 bits). Ids from another
// connection or of a finished call are ignored by respond().
using CallId = uint64_t;

// One complete unary request. All views stay valid until respond() or on_call_cancelled()
// for this call.
struct UnaryRequest {
  CallId id;                             // handle for respond()
  std::string_view path;                 // ":path", e.g. "/pkg.Service/Method"
  std::string_view authority;            // ":authority" (or "host")
  std::span<const Metadata> metadata;    // non-reserved headers (see is_reserved_header)
  int64_t timeout_ns;                    // from grpc-timeout; 0 = none
  std::string_view message;              // the request message without its 5-byte prefix
};

class ServerHandler {
 public:
  virtual ~ServerHandler() = default;
  // A complete request; call respond() now (re-entrancy is fine) or later.
  virtual void on_unary_request(const UnaryRequest& req) = 0;
  // The call is gone (RST_STREAM, connection closed) before respond(); do not respond.
  virtual void on_call_cancelled(CallId id) = 0;
};

class GrpcServerConnection {
 public:
  GrpcServerConnection(mem::ShardPool* pool, ServerHandler* handler, uint32_t max_message_bytes,
                       const http2::SessionSettings& settings = {});
  // Calls on_transport_closed(): the handler must outlive the connection.
  ~GrpcServerConnection();
  GrpcServerConnection(const GrpcServerConnection&) = delete;
  GrpcServerConnection& operator=(const GrpcServerConnection&) = delete;

  // Queues the server SETTINGS. False if nghttp2 could not be set up.
  bool start();
  // Received bytes. False: close the connection after flushing output.
  bool feed(const uint8_t* data, size_t len);
  // Appends pending output. False on a fatal error.
  bool flush_to(mem::Buffer* out);
  bool wants_close() const;

  // Answers a call: HEADERS(:status 200, content-type application/grpc, headers...), one DATA
  // message (prefix added, bytes copied), trailers (grpc-status, grpc-message percent-encoded,
  // trailers...). A non-OK status with an empty message is sent trailers-only.
  // False if the call is unknown, already answered or gone.
  bool respond(CallId id, std::span<const Metadata> headers, std::string_view message,
               int grpc_status, std::string_view grpc_message,
               std::span<const Metadata> trailers);
  // Graceful GOAWAY: in-flight calls finish, streams the peer opens later are not processed.
  void shutdown();
  // The socket is gone: every call handed to the handler and not answered gets
  // on_call_cancelled(); the session is freed. Idempotent.
  void on_transport_closed();
  // Calls opened and not yet closed (including ones being answered).
  size_t active_calls() const { return active_count_; }

 private:
  struct Call;
  friend struct ServerCallbacks;

  Call* acquire_call(int32_t stream_id);
  void release_call(Call* c);
  void dispatch(Call* c);
  // Answers with a gRPC error (trailers-only) from the framework itself.
  void reject_grpc(Call* c, int grpc_status, std::string_view message);
  // Answers a reassembly error with the matching gRPC status.
  void reject_framing(Call* c);
  // Answers with a bare HTTP status (405, 415).
  void reject_http(Call* c, int http_status);
  bool submit_trailers(Call* c);
  // Appends one nghttp2_nv (no copy flags: nghttp2 copies at submit time).
  bool push_nv(std::string_view name, std::string_view value);

  mem::ShardPool* pool_;              // all memory of this connection
  ServerHandler* handler_;            // receives requests and cancellations
  uint32_t max_message_bytes_;        // request messages above this get RESOURCE_EXHAUSTED
  http2::SessionSettings settings_;   // advertised SETTINGS and header list limit
  http2::Session session_;            // the nghttp2 session
  uint32_t generation_;               // high half of every CallId of this connection
  Call* active_ = nullptr;            // open calls (intrusive list)
  Call* free_ = nullptr;              // recycled call objects
  size_t active_count_ = 0;           // length of active_
  PodVector<nghttp2_nv> nv_;          // scratch header list for submits
  mem::Buffer scratch_;               // scratch bytes (encoded grpc-message, numbers)
};

}  // namespace ringside::grpc
