#pragma once
// ByteStream: the transport seam. A connected, ordered byte stream driven by the shard's
// io_uring, as the protocol layers above see it. TcpConnection is the plaintext stream; a TLS
// stream (OpenSSL over memory BIOs, above a TcpConnection) implements the same interface, so
// HTTP/1.1 and HTTP/2 code never learns which one it runs on.
//
// Input arrives through Handler::on_data (a view valid during the call only). Output is
// appended to out() and sent by flush(); bytes appended while a send is in flight go out with
// the next one. Lifetime: close() (or a failure, or the peer's EOF) ends the stream;
// on_closed() is the last callback, after which the stream object is gone.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/mem/buffer.h"

namespace ringside::io {

class ByteStream {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Dialled streams only: err = 0 once connected (and, for TLS, handshaken), or a negative errno.
    virtual void on_connected(ByteStream& s, int err) {}
    virtual void on_data(ByteStream& s, std::span<const uint8_t> bytes) = 0;
    // Every byte handed to flush() so far has been written out.
    virtual void on_drained(ByteStream& s) {}
    // Last callback; `err` is 0 for a clean close/EOF or a negative errno.
    virtual void on_closed(ByteStream& s, int err) = 0;
  };

  // Output not yet handed to the transport: append, then flush().
  virtual mem::Buffer& out() = 0;
  virtual void flush() = 0;
  // Flushes what is queued, then closes.
  virtual void close_after_flush() = 0;
  // Stops I/O now; queued output is dropped.
  virtual void close() = 0;
  // Stops / restarts reading (idempotent): back-pressure toward the peer.
  virtual void pause_recv() = 0;
  virtual void resume_recv() = 0;
  virtual bool closing() const = 0;
  // Output bytes not yet written out (queued and in flight).
  virtual size_t queued_bytes() const = 0;
  // Send buffers up to `bytes` stay with the stream when it goes idle (larger ones go back to
  // the shard pool). A connection multiplexing many calls raises it: one that gives its buffer
  // back between calls grows it anew for the next large one, copying what it holds at each
  // doubling (issue 11: about one more copy of every 64 KiB gRPC message).
  virtual void keep_send_buffers_up_to(size_t bytes) { (void)bytes; }

 protected:
  ~ByteStream() = default;  // streams end themselves (close → on_closed), never by delete
};

}  // namespace ringside::io
