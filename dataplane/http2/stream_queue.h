#pragma once
// StreamQueue: the outbound queue and inbound window debt of one streaming HTTP/2 stream, and
// the flow-control constants both gRPC connections (client and server) apply to it. The logic
// around it (queue_send, read_queue, consume_queue) is in Endpoint, which owns the session.
//
// Memory of one streaming call is bounded on both sides:
//   - outbound: send_data() copies into a per-stream pool buffer that nghttp2 drains as the
//     peer's window allows. Senders are expected to stop at kStreamHighWatermark queued bytes
//     and wait for on_stream_writable(), which fires once the queue fell below
//     kStreamLowWatermark. send_data() itself never refuses bytes below kStreamHardQueueLimit,
//     because a proxy must accept what already arrived on its other hop.
//   - inbound: received DATA is handed to the application without buffering; the stream's
//     receive window (SessionSettings::initial_stream_window) reopens only through consume(),
//     so at most one window of received-but-not-forwarded bytes exists per stream.
// A proxy that forwards inbound bytes with send_data() and consume()s them once its outbound
// queue is below the high watermark therefore holds at most
//   initial_stream_window + kStreamHighWatermark bytes per stream and direction.
#include <cstddef>

#include "dataplane/mem/buffer.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::http2 {

// Queue size at which a sender should pause (≈ a few 16 KiB DATA frames in flight on top of
// one peer window's worth of nghttp2 read-ahead; large enough to keep loopback links busy).
inline constexpr size_t kStreamHighWatermark = size_t{256} << 10;
// Queue size below which on_stream_writable() fires again (hysteresis: the sender resumes
// with a quarter of the queue left, so the link never runs dry while it reacts).
inline constexpr size_t kStreamLowWatermark = size_t{64} << 10;
// send_data() fails beyond this many queued bytes: a sender ignoring back-pressure.
inline constexpr size_t kStreamHardQueueLimit = size_t{32} << 20;

struct StreamQueue {
  explicit StreamQueue(mem::ShardPool* pool) : out(pool) {}

  // Bytes queued and not yet handed to nghttp2.
  size_t size() const { return out.size(); }
  // n more bytes stay within kStreamHardQueueLimit.
  bool fits(size_t n) const { return n <= kStreamHardQueueLimit - out.size(); }

  mem::Buffer out;             // bytes queued by send_data(), drained by the data provider
  bool data_deferred = false;  // the provider returned DEFERRED: new bytes must resume it
  bool above_high = false;     // the queue reached the high watermark: owes a writable callback
  size_t unconsumed = 0;       // received DATA bytes not yet consume()d (stream window held)
};

}  // namespace ringside::http2
