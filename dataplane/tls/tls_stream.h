#pragma once
// TlsStream: the TLS ByteStream (see io/byte_stream.h): OpenSSL in user space above a
// TcpConnection, driven by the same shard loop (this kernel has no kTLS, and the handshake must
// never block a shard). Protocol code (http2::TransportLink) runs on it unchanged.
//
// Bytes: ciphertext received by the TcpConnection is handed to OpenSSL through a BIO that reads
// straight from the receive buffer (no staging copy); the plaintext comes out into a per-thread
// scratch and goes up in one on_data per received chunk (or per 64 KiB). Plaintext written by
// the protocol layer waits in out() until the end of the loop turn (the shard's FlushList), when
// it is encrypted in one go straight into the TcpConnection's output, so one turn's frames
// become as few records and one send. Nothing is allocated per record: OpenSSL keeps its
// record buffers for the connection's life (no SSL_MODE_RELEASE_BUFFERS).
//
// Handshake: the server side starts it on the first bytes; the client side on TCP connect, and
// reports on_connected(0) only once it is complete and the callee's certificate names the app
// id it dialled (spec: "Client peer check"); the server side accepts any SPIFFE ID that chains
// to the trust anchors and exposes it as peer_identity() for access control. Output written
// before the handshake completes (our HTTP/2 preface or SETTINGS) waits and follows it.
// Failures: a dialled stream reports on_connected(kHandshakeFailed or kWrongPeer), then
// on_closed; our alert (e.g. bad certificate) is flushed before the socket closes.
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/io/byte_stream.h"
#include "dataplane/io/flush_list.h"
#include "dataplane/io/io_context.h"
#include "dataplane/io/tcp_connection.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/tls/spiffe_id.h"
#include "dataplane/tls/tls_stats.h"

namespace ringside::tls {

class TlsStream final : public io::ByteStream, private io::ByteStream::Handler {
 public:
  // Errors reported through on_connected / on_closed.
  static constexpr int kHandshakeFailed = -EPROTO;  // TLS failed: untrusted, expired, plaintext peer...
  static constexpr int kWrongPeer = -EACCES;        // the callee's SPIFFE ID names another app
  // What the client side requires of the callee's SPIFFE ID (any trust domain).
  struct ExpectedPeer {
    std::string_view app_namespace;  // copied; at most kMaxExpected bytes with app_id
    std::string_view app_id;
  };
  static constexpr size_t kMaxExpected = 256;

  // Server side: takes ownership of an accepted socket. nullptr (fd closed) on failure.
  // `stats`: where to count handshakes (default: nowhere).
  static TlsStream* accept(io::IoContext* io, SSL_CTX* ctx, int fd, io::ByteStream::Handler* handler,
                           TlsStats stats = {});
  // Client side: connects to `peer`, then handshakes. nullptr on failure (nothing to close).
  static TlsStream* dial(io::IoContext* io, SSL_CTX* ctx, const sockaddr* peer, socklen_t len,
                         ExpectedPeer expect, io::ByteStream::Handler* handler, TlsStats stats = {});

  // After the handshake: the peer's identity; nullptr before (and never null after: a peer
  // without a SPIFFE ID fails the handshake).
  const SpiffeId* peer_identity() const { return handshaken_ ? &peer_id_ : nullptr; }
  bool handshaken() const { return handshaken_; }

  // io::ByteStream
  mem::Buffer& out() override { return out_; }
  void flush() override;
  void close_after_flush() override;
  void close() override;
  void pause_recv() override { if (tcp_) tcp_->pause_recv(); }
  void resume_recv() override { if (tcp_) tcp_->resume_recv(); }
  bool closing() const override { return closing_; }
  size_t queued_bytes() const override { return out_.size() + (tcp_ ? tcp_->queued_bytes() : 0); }
  void keep_send_buffers_up_to(size_t bytes) override { if (tcp_) tcp_->keep_send_buffers_up_to(bytes); }

 private:
  TlsStream(io::IoContext* io, SSL* ssl, io::ByteStream::Handler* handler);
  ~TlsStream();
  static TlsStream* make(io::IoContext* io, SSL_CTX* ctx, bool server, io::ByteStream::Handler* handler);
  // Ends the object (pool memory), after on_closed or when a start failed.
  static void destroy(TlsStream* s);

  // io::ByteStream::Handler, for the TcpConnection below.
  void on_connected(io::ByteStream& s, int err) override;
  void on_data(io::ByteStream& s, std::span<const uint8_t> bytes) override;
  void on_drained(io::ByteStream& s) override;
  void on_closed(io::ByteStream& s, int err) override;

  // Runs the handshake as far as the input allows; true once it is complete and the peer checked.
  bool advance_handshake();
  // Decrypts everything received so far and hands it up.
  void read_plaintext();
  // Encrypts out() into the TcpConnection and sends it.
  void encrypt_and_send();
  static void on_turn_end(void* self);
  // Ends the stream with `err` (reported on_closed); `send_alert`: flush our alert first.
  void fail(int err, bool send_alert);

  // The BIO below OpenSSL (tls_stream.cc): reads in_, writes into tcp_->out().
  friend int bio_read(BIO* b, char* out, int len);
  friend int bio_write(BIO* b, const char* in, int len);

  io::IoContext* io_;
  SSL* ssl_;                        // owned; owns its BIO
  io::ByteStream::Handler* handler_;                // the protocol layer above
  io::TcpConnection* tcp_ = nullptr;  // the socket below; nullptr once it closed
  TlsStats stats_;                  // the shard's handshake counters (null pointers: none)
  mem::Buffer out_;                 // plaintext appended by the handler, not yet encrypted
  io::FlushList::Node flush_node_;  // on io_->flushes while out_ waits for the turn's end
  const uint8_t* in_ = nullptr;     // received ciphertext not yet read by OpenSSL (during on_data)
  size_t in_len_ = 0;
  int close_err_ = 0;               // first error to report in on_closed
  bool server_ = false;             // accepted (else dialled)
  bool handshaken_ = false;         // handshake complete and peer checked
  bool connect_reported_ = false;   // on_connected() given to the handler (dialled streams)
  bool closing_ = false;
  SpiffeId peer_id_;                // views into id_text_
  char id_text_[kMaxExpected + 32]; // the peer's SPIFFE ID text
  char expect_[kMaxExpected];       // expected namespace then app id (dialled streams)
  uint16_t expect_ns_len_ = 0;
  uint16_t expect_app_len_ = 0;
};

}  // namespace ringside::tls
