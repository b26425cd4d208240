#pragma once
// Session: one nghttp2 session driven sans-IO. The owner feeds received bytes in and collects
// bytes to send; nothing here touches a socket, allocates globally, locks or throws.
//
// nghttp2's automatic WINDOW_UPDATE is off: the owner decides when received bytes free window
// space (consume_stream / consume_connection). The gRPC layer reopens the connection window on
// arrival (one slow stream never stalls the others), unary streams on arrival too, and streaming
// calls only once the bytes were forwarded, which is what lets a slow receiver back-pressure
// the sender through a proxy hop.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>

#include "dataplane/mem/buffer.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::http2 {

// What we advertise in SETTINGS and how big our receive windows are. The defaults let a
// 4 MiB message (daprd's default --max-body-size) flow without waiting for WINDOW_UPDATE.
struct SessionSettings {
  uint32_t max_concurrent_streams = 2048;      // streams the peer may open to us (daprd: 2048)
  uint32_t initial_stream_window = 8u << 20;   // per-stream receive window
  uint32_t connection_window = 16u << 20;      // connection-level receive window
  uint32_t max_header_list_bytes = 64u << 10;  // advertised; enforced per stream by gRPC layer
  // Server sessions of the internal port: this sidecar's shard count, sent as the setting
  // kRingsideShardsSetting so that a ringside caller opens a connection per callee shard
  // (docs/peer-connections.md); 0 = not sent.
  uint32_t advertised_shards = 0;
};

// A SETTINGS identifier from the range RFC 9113 §11.3 leaves for experimental use: "the sender
// runs this many shards, one connection reaches one of them". Peers that do not know it ignore
// it, as RFC 9113 §6.5.2 requires (grpc-go, grpc++, nghttp2 do).
inline constexpr int32_t kRingsideShardsSetting = 0xf0a1;

enum class Role : uint8_t { kClient, kServer };

class Session {
 public:
  explicit Session(mem::ShardPool* pool) : pool_(pool) {}
  ~Session() { destroy(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Creates the session on pool memory and queues our SETTINGS and window size (a client
  // session also sends the connection preface). callbacks must outlive the session.
  bool start(Role role, const nghttp2_session_callbacks* callbacks, void* user,
             const SessionSettings& settings);
  // Processes received bytes. False: fatal error or the session is done reading; close the
  // connection after flushing output.
  bool feed(const uint8_t* data, size_t len);
  // Appends what nghttp2 wants to send, frame by frame, until nothing is left or out holds
  // max_bytes (the rest stays queued in nghttp2 for the next call). False on a fatal error or
  // no memory.
  bool flush_to(mem::Buffer* out, size_t max_bytes = SIZE_MAX);
  // True when the connection should be closed once output is flushed.
  bool wants_close() const;
  // Queues GOAWAY(NO_ERROR) naming the last stream we processed: in-flight streams finish,
  // newer ones are ignored and the peer knows they were not processed.
  void shutdown();
  // The first half of a graceful shutdown (RFC 9113 §6.8): GOAWAY with the largest stream id
  // (the peer opens no new streams; nothing is refused) and a PING carrying kDrainPing. When
  // its ACK arrives, every stream the peer opened before it saw the notice has reached us, and
  // shutdown() can name the true last stream: a request crossing the GOAWAY on the wire is
  // then never refused, nor lost to a connection closed under it.
  void shutdown_notice();
  static constexpr uint8_t kDrainPing[8] = {'r', 'i', 'n', 'g', 'd', 'r', 'a', 'n'};
  // Queues GOAWAY with an error code; the session stops reading.
  void terminate(uint32_t error_code);
  // Frees the nghttp2 session without running callbacks.
  void destroy();

  // n received DATA bytes of the stream no longer occupy its window (WINDOW_UPDATE is queued
  // once half the window is free). Unknown or closed streams are ignored.
  void consume_stream(int32_t stream_id, size_t n);
  // n received DATA bytes no longer occupy the connection window.
  void consume_connection(size_t n);

  nghttp2_session* get() const { return session_; }
  bool alive() const { return session_ != nullptr && !fatal_; }
  const SessionSettings& settings() const { return settings_; }

 private:
  mem::ShardPool* pool_;                // backs nghttp2's memory
  nghttp2_session* session_ = nullptr;  // null before start() and after destroy()
  SessionSettings settings_;            // what we advertised
  bool fatal_ = false;                  // nghttp2 reported an unrecoverable error
};

}  // namespace ringside::http2
