#pragma once
// Endpoint: one side of an HTTP/2 connection, sans-IO: the nghttp2 session plus what the gRPC
// client and server connections share. The owner (a TransportLink) feeds received bytes in and
// collects bytes to send; subclasses add their role (client calls, served calls).
//
// The flush loop lives here once: output is collected from nghttp2, then streams whose send
// queue drained below the low watermark are told they are writable (outside nghttp2's
// callbacks, so handlers may submit frames), and their new output is collected in turn.
#include <cstddef>
#include <cstdint>

#include "dataplane/http2/session.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::http2 {

class Endpoint {
 public:
  Endpoint(mem::ShardPool* pool, const SessionSettings& settings)
      : pool_(pool), settings_(settings), session_(pool) {}
  virtual ~Endpoint() = default;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // Received bytes. False: close the connection after flushing output.
  bool feed(const uint8_t* data, size_t len) { return session_.feed(data, len); }
  // Appends pending output (and the output of writable callbacks). False on a fatal error.
  bool flush_to(mem::Buffer* out);
  // The connection should be closed once output is flushed.
  bool wants_close() const { return session_.wants_close(); }

 protected:
  // Fires the writable callbacks owed after the last round of output; true if any fired.
  virtual bool fire_writable() = 0;

  mem::ShardPool* pool_;       // all memory of this connection
  SessionSettings settings_;   // advertised SETTINGS and header list limit
  Session session_;            // the nghttp2 session (manual window updates)
};

}  // namespace ringside::http2
