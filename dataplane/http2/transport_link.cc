#include "dataplane/http2/transport_link.h"

namespace ringside::http2 {

void TransportLink::attach(io::ByteStream* stream) {
  stream_ = stream;
  // A multiplexed connection keeps a send buffer of its whole output bound between calls
  // (one or two per connection), so a large message does not regrow it each time.
  stream_->keep_send_buffers_up_to(kOutputHighWater);
  pump();
}

void TransportLink::pump() {
  if (!stream_ || stream_->closing()) return;
  if (in_endpoint_) {
    pump_again_ = true;  // nghttp2 is on the stack: the outer frame pumps once it returns
    return;
  }
  in_endpoint_ = true;
  bool ok = true;
  do {
    pump_again_ = false;
    size_t unsent = stream_->queued_bytes();
    held_back_ = unsent >= kOutputHighWater;
    if (held_back_) break;  // on_drained() pumps again
    mem::Buffer& out = stream_->out();
    ok = endpoint_->flush_to(&out, out.size() + (kOutputHighWater - unsent));
    held_back_ = stream_->queued_bytes() >= kOutputHighWater;
  } while (ok && pump_again_);
  in_endpoint_ = false;
  if (!ok) {
    failed_ = true;
    stream_->close();
    return;
  }
  stream_->flush();
  if (endpoint_->wants_close()) {
    failed_ = true;
    stream_->close_after_flush();
  }
}

void TransportLink::close() {
  failed_ = true;
  if (stream_) stream_->close();
}

void TransportLink::fail() {
  failed_ = true;
  in_endpoint_ = true;
  endpoint_->flush_to(&stream_->out());  // a GOAWAY explaining why, when nghttp2 has one
  in_endpoint_ = false;
  stream_->close_after_flush();
}

void TransportLink::on_connected(io::ByteStream&, int err) {
  if (err) failed_ = true;  // on_closed follows
  owner_->on_link_connected(err);
}

void TransportLink::on_data(io::ByteStream&, std::span<const uint8_t> bytes) {
  in_endpoint_ = true;
  bool ok = endpoint_->feed(bytes.data(), bytes.size());
  in_endpoint_ = false;
  if (!ok) {
    fail();
    return;
  }
  pump();
}

void TransportLink::on_drained(io::ByteStream&) {
  if (held_back_) pump();
}

void TransportLink::on_closed(io::ByteStream&, int err) {
  stream_ = nullptr;
  failed_ = true;
  owner_->on_link_closed(err);  // may destroy the owner, and this link with it
}

}  // namespace ringside::http2
