#pragma once
// TransportLink: an HTTP/2 Endpoint running on a ByteStream (the transport seam: plaintext TCP
// today, TLS later, the protocol code unchanged). Received bytes are fed to the endpoint; after
// every operation pump() moves the endpoint's output into the stream; when the endpoint is done
// (GOAWAY exchanged, protocol error) the stream is closed after its output.
//
// Written once for every HTTP/2 connection of a shard: peer sidecars and the gRPC app
// (upstream::PeerConnection) and both gRPC ports (ingress::GrpcPortConnection).
//
// Output bound: the endpoint's output is moved into the stream only while the stream holds less
// than kOutputHighWater unsent bytes; the rest waits in nghttp2 and in the per-stream send
// queues (whose watermarks then stop the producers) until the stream drains (on_drained). So a
// peer that opens a large HTTP/2 window but reads slowly costs about kOutputHighWater of
// socket output per connection, not its whole window.
//
// Re-entrancy: nghttp2 must not be asked for output while it is reading input or producing
// output. pump() called meanwhile (a handler answering from inside a callback) is remembered
// and done once the outer feed or flush returns; this is the only such guard on the path.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/http2/endpoint.h"
#include "dataplane/io/byte_stream.h"

namespace ringside::http2 {

class TransportLink final : public io::ByteStream::Handler {
 public:
  // Who owns the connection: told when the stream connects and when it is gone.
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void on_link_connected(int err) { (void)err; }
    // The stream is gone (last callback of the link). err = 0 for a clean close, else -errno.
    virtual void on_link_closed(int err) = 0;
  };

  // Unsent bytes in the stream above which no more output is taken from the endpoint.
  static constexpr size_t kOutputHighWater = size_t{512} << 10;

  TransportLink(Endpoint* endpoint, Owner* owner) : endpoint_(endpoint), owner_(owner) {}

  // Starts using `stream`, whose handler is this link, and flushes what is queued (a client's
  // preface waits in the stream until it connects).
  void attach(io::ByteStream* stream);
  // Moves the endpoint's output into the stream and sends it.
  void pump();
  // Takes no more calls: the stream closes now, or once the endpoint's output is out.
  void close();
  // True until the stream failed, closes, or the endpoint broke.
  bool up() const { return stream_ != nullptr && !failed_ && !stream_->closing(); }
  io::ByteStream* stream() const { return stream_; }

  // io::ByteStream::Handler
  void on_connected(io::ByteStream& s, int err) override;
  void on_data(io::ByteStream& s, std::span<const uint8_t> bytes) override;
  void on_drained(io::ByteStream& s) override;
  void on_closed(io::ByteStream& s, int err) override;

 private:
  // The endpoint cannot go on: send what it has, then close.
  void fail();

  Endpoint* endpoint_;                 // the HTTP/2 side
  Owner* owner_;                       // the connection owning both
  io::ByteStream* stream_ = nullptr;   // nullptr before attach() and after on_closed()
  bool in_endpoint_ = false;           // feed() or flush_to() on the stack
  bool pump_again_ = false;            // pump() was asked for meanwhile
  bool failed_ = false;                // the endpoint failed or the stream is closing
  bool held_back_ = false;             // output was left in the endpoint (stream full)
};

}  // namespace ringside::http2
