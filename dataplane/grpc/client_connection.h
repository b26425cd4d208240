#pragma once
// GrpcClientConnection: the client side of one h2c connection to a peer sidecar carrying unary
// gRPC calls, driven sans-IO (the shard's io_uring connection pumps bytes through
// feed()/flush_to()). Deadlines are the caller's job: it arms a timer and calls cancel().
//
// Every call started gets exactly one on_unary_complete(), unless the caller cancel()s it:
// a response, a reset, a GOAWAY that excludes it, or on_transport_closed().
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

// Outcome of one unary call. All views are valid only during on_unary_complete().
struct UnaryResult {
  int grpc_status;                      // gRPC status code (UNAVAILABLE on transport failure)
  std::string_view grpc_message;        // grpc-message, percent-decoded
  std::string_view message;             // response message without its prefix (may be empty)
  std::span<const Metadata> headers;    // response headers (non-reserved)
  std::span<const Metadata> trailers;   // trailers (for trailers-only responses: all metadata)
  bool not_processed;    // the peer guaranteed it did not process the call (REFUSED_STREAM,
                         // above GOAWAY's last-stream-id, or never sent): safe to retry
  bool transport_error;  // the connection died or broke the protocol; grpc_status UNAVAILABLE
};

class ClientHandler {
 public:
  virtual ~ClientHandler() = default;
  // Exactly once per started, not cancelled call. May start new calls on this connection.
  virtual void on_unary_complete(void* user, const UnaryResult& r) = 0;
};

class GrpcClientConnection {
 public:
  GrpcClientConnection(mem::ShardPool* pool, ClientHandler* handler, uint32_t max_message_bytes,
                       const http2::SessionSettings& settings = {});
  // Calls on_transport_closed(): the handler must outlive the connection.
  ~GrpcClientConnection();
  GrpcClientConnection(const GrpcClientConnection&) = delete;
  GrpcClientConnection& operator=(const GrpcClientConnection&) = delete;

  // Queues the client preface and SETTINGS.
  bool start();
  // Received bytes. False: close the connection after flushing output (then call
  // on_transport_closed()).
  bool feed(const uint8_t* data, size_t len);
  bool flush_to(mem::Buffer* out);
  bool wants_close() const;

  // Not GOAWAY'd, not failed, below the peer's MAX_CONCURRENT_STREAMS.
  bool can_start_call() const;
  // Starts POST path with content-type application/grpc, te: trailers, grpc-timeout (when
  // timeout_ns > 0) and metadata. message is unframed; the prefix is added here. The bytes of
  // path/authority/metadata are copied; message must stay valid until on_unary_complete().
  // Returns the stream id, or 0 if the call could not be started (no callback then).
  int32_t start_unary(std::string_view path, std::string_view authority,
                      std::span<const Metadata> metadata, int64_t timeout_ns,
                      std::string_view message, void* user);
  // RST_STREAM(CANCEL); no completion callback for this call afterwards.
  void cancel(int32_t stream_id);
  // The socket is gone: every call in flight completes with transport_error (and
  // not_processed if its HEADERS never left). The session is freed. Idempotent.
  void on_transport_closed();
  // Calls started and not yet completed or cancelled.
  size_t active_calls() const { return active_count_; }

 private:
  struct Call;
  friend struct ClientCallbacks;

  Call* acquire_call();
  // Unlinks c and puts it on the free list.
  void release_call(Call* c);
  Call* find_call(int32_t stream_id) const;
  // Builds the result from what was received and calls the handler once.
  void complete_from_response(Call* c);
  void complete_with(Call* c, int grpc_status, std::string_view message, bool not_processed,
                     bool transport_error);
  bool push_nv(std::string_view name, std::string_view value);

  mem::ShardPool* pool_;              // all memory of this connection
  ClientHandler* handler_;            // receives completions
  uint32_t max_message_bytes_;        // response messages above this fail the call
  http2::SessionSettings settings_;   // advertised SETTINGS and header list limit
  http2::Session session_;            // the nghttp2 session
  Call* active_ = nullptr;            // calls not yet recycled (intrusive list)
  Call* free_ = nullptr;              // recycled call objects
  size_t active_count_ = 0;           // calls not yet completed or cancelled
  PodVector<nghttp2_nv> nv_;          // scratch header list for submits
};

}  // namespace ringside::grpc
