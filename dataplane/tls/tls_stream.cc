#include "dataplane/tls/tls_stream.h"

#include <openssl/err.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include "dataplane/tls/tls_context.h"

namespace ringside::tls {

// The BIO: OpenSSL's only view of the socket. Reads take from the chunk being delivered
// (TlsStream::in_) and report "retry" when it is used up; writes append to the TcpConnection's
// output buffer, which always takes everything (bounded above us by the transport link's
// high-water mark), so OpenSSL never sees a blocked write.
int bio_read(BIO* b, char* out, int len) {
  auto* s = static_cast<TlsStream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (s->in_len_ == 0 || len <= 0) {
    BIO_set_retry_read(b);
    return -1;
  }
  size_t n = std::min(s->in_len_, static_cast<size_t>(len));
  std::memcpy(out, s->in_, n);
  s->in_ += n;
  s->in_len_ -= n;
  return static_cast<int>(n);
}

int bio_write(BIO* b, const char* in, int len) {
  auto* s = static_cast<TlsStream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (!s->tcp_ || len < 0 || !s->tcp_->out().append(in, static_cast<size_t>(len))) return -1;
  return len;
}

namespace {
long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // the turn-end send is our flush
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* bio_method() {
  // Built once per process (a function-local static is initialised thread-safely).
  static BIO_METHOD* m = [] {
    BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ringside-io_uring");
    BIO_meth_set_read(meth, &bio_read);
    BIO_meth_set_write(meth, &bio_write);
    BIO_meth_set_ctrl(meth, &bio_ctrl);
    BIO_meth_set_create(meth, &bio_create);
    return meth;
  }();
  return m;
}

// Plaintext handed up per on_data at most; a received chunk is at most one provided buffer
// (16 KiB by default) plus the rest of a record begun in the chunk before, so one or two
// deliveries per chunk.
constexpr size_t kScratch = size_t{64} << 10;
thread_local uint8_t t_plaintext[kScratch];
}  // namespace

TlsStream::TlsStream(io::IoContext* io, SSL* ssl, io::ByteStream::Handler* handler)
    : io_(io), ssl_(ssl), handler_(handler), out_(io->pool) {
  flush_node_.run = &TlsStream::on_turn_end;
  flush_node_.owner = this;
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

TlsStream* TlsStream::make(io::IoContext* io, SSL_CTX* ctx, bool server, io::ByteStream::Handler* handler) {
  SSL* ssl = SSL_new(ctx);
  if (!ssl) {
    ERR_clear_error();
    return nullptr;
  }
  BIO* bio = BIO_new(bio_method());
  void* mem = bio ? io->pool->allocate(sizeof(TlsStream)) : nullptr;
  if (!mem) {
    BIO_free(bio);
    SSL_free(ssl);
    return nullptr;
  }
  auto* s = new (mem) TlsStream(io, ssl, handler);
  BIO_set_data(bio, s);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO (one reference for both directions)
  s->server_ = server;
  if (server) SSL_set_accept_state(ssl);
  else SSL_set_connect_state(ssl);
  return s;
}

void TlsStream::destroy(TlsStream* s) {
  mem::ShardPool* pool = s->io_->pool;
  s->~TlsStream();
  pool->deallocate(s);
}

TlsStream* TlsStream::accept(io::IoContext* io, SSL_CTX* ctx, int fd, io::ByteStream::Handler* handler,
                             TlsStats stats) {
  TlsStream* s = make(io, ctx, /*server=*/true, handler);
  if (!s) {
    ::close(fd);
    return nullptr;
  }
  s->stats_ = stats;
  s->tcp_ = io::TcpConnection::adopt(io, fd, s);
  if (!s->tcp_) {  // adopt closed fd
    destroy(s);
    return nullptr;
  }
  return s;
}

TlsStream* TlsStream::dial(io::IoContext* io, SSL_CTX* ctx, const sockaddr* peer, socklen_t len,
                           ExpectedPeer expect, io::ByteStream::Handler* handler, TlsStats stats) {
  if (expect.app_namespace.size() + expect.app_id.size() > kMaxExpected) return nullptr;
  TlsStream* s = make(io, ctx, /*server=*/false, handler);
  if (!s) return nullptr;
  s->stats_ = stats;
  std::memcpy(s->expect_, expect.app_namespace.data(), expect.app_namespace.size());
  std::memcpy(s->expect_ + expect.app_namespace.size(), expect.app_id.data(), expect.app_id.size());
  s->expect_ns_len_ = static_cast<uint16_t>(expect.app_namespace.size());
  s->expect_app_len_ = static_cast<uint16_t>(expect.app_id.size());
  s->tcp_ = io::TcpConnection::dial(io, peer, len, s);
  if (!s->tcp_) {
    destroy(s);
    return nullptr;
  }
  return s;
}

void TlsStream::on_connected(io::ByteStream&, int err) {
  if (err) {
    connect_reported_ = true;
    handler_->on_connected(*this, err);  // the TcpConnection closes itself: on_closed follows
    return;
  }
  advance_handshake();  // our ClientHello
}

bool TlsStream::advance_handshake() {
  int r = SSL_do_handshake(ssl_);
  if (r != 1) {
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) {
      if (tcp_) tcp_->flush();  // what this step wrote (ClientHello, ServerHello...)
      return false;
    }
    // Untrusted, expired or missing certificate, a plaintext peer, no common protocol...
    ERR_clear_error();
    fail(kHandshakeFailed, /*send_alert=*/true);
    return false;
  }
  X509* cert = SSL_get0_peer_certificate(ssl_);
  SpiffeId id;
  bool has_id = cert && certificate_spiffe_id(cert, id_text_, sizeof id_text_, &id);
  if (!has_id || (!server_ && !names_app(id, std::string_view(expect_, expect_ns_len_),
                                         std::string_view(expect_ + expect_ns_len_, expect_app_len_)))) {
    fail(kWrongPeer, /*send_alert=*/false);
    return false;
  }
  peer_id_ = id;
  handshaken_ = true;
  TlsStats::bump(stats_.handshakes);
  if (!server_) {
    connect_reported_ = true;
    handler_->on_connected(*this, 0);
    if (closing_) return false;
  }
  encrypt_and_send();  // what the protocol layer queued meanwhile, and our last flight
  return !closing_;
}

void TlsStream::on_data(io::ByteStream&, std::span<const uint8_t> bytes) {
  if (closing_) return;
  in_ = bytes.data();
  in_len_ = bytes.size();
  if (handshaken_ || advance_handshake()) read_plaintext();
  in_ = nullptr;
  in_len_ = 0;  // OpenSSL keeps a partial record itself: nothing is left here
}

void TlsStream::read_plaintext() {
  size_t got = 0;
  for (;;) {
    int r = SSL_read(ssl_, t_plaintext + got, static_cast<int>(kScratch - got));
    if (r > 0) {
      got += static_cast<size_t>(r);
      if (got < kScratch) continue;
    }
    if (got) {
      handler_->on_data(*this, std::span<const uint8_t>(t_plaintext, got));
      got = 0;
      if (closing_) return;
      if (r > 0) continue;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return;  // every received byte is in OpenSSL now
    ERR_clear_error();
    // close_notify is the peer's clean end (like EOF); anything else is a broken stream.
    fail(e == SSL_ERROR_ZERO_RETURN ? 0 : kHandshakeFailed, /*send_alert=*/false);
    return;
  }
}

void TlsStream::flush() {
  if (closing_ || !handshaken_ || out_.empty()) return;  // before the handshake: it sends them
  if (io_->flushes) io_->flushes->add(&flush_node_);  // once per turn
  else encrypt_and_send();
}

void TlsStream::on_turn_end(void* self) {
  auto* s = static_cast<TlsStream*>(self);
  if (!s->closing_ && s->handshaken_) s->encrypt_and_send();
}

void TlsStream::encrypt_and_send() {
  while (!out_.empty()) {
    int r = SSL_write(ssl_, out_.data(), static_cast<int>(std::min<size_t>(out_.size(), INT_MAX)));
    if (r <= 0) {
      ERR_clear_error();
      fail(kHandshakeFailed, /*send_alert=*/false);
      return;
    }
    out_.consume(static_cast<size_t>(r));
  }
  if (tcp_) tcp_->flush();
}

void TlsStream::on_drained(io::ByteStream&) {
  if (!closing_ && out_.empty()) handler_->on_drained(*this);
}

void TlsStream::close_after_flush() {
  if (closing_) return;
  if (handshaken_) {
    encrypt_and_send();
    if (closing_) return;
    SSL_shutdown(ssl_);  // our close_notify, after the data
    ERR_clear_error();
  }
  closing_ = true;
  if (io_->flushes) io_->flushes->remove(&flush_node_);
  if (tcp_) tcp_->close_after_flush();
}

void TlsStream::close() {
  if (closing_) return;
  closing_ = true;
  if (io_->flushes) io_->flushes->remove(&flush_node_);
  if (tcp_) tcp_->close();
}

void TlsStream::fail(int err, bool send_alert) {
  if (closing_) return;
  if (!handshaken_) TlsStats::bump(stats_.failures);
  if (!close_err_) close_err_ = err;
  closing_ = true;
  if (io_->flushes) io_->flushes->remove(&flush_node_);
  if (!server_ && !connect_reported_) {
    connect_reported_ = true;
    handler_->on_connected(*this, err);
  }
  if (!tcp_) return;
  if (send_alert) tcp_->close_after_flush();
  else tcp_->close();
}

void TlsStream::on_closed(io::ByteStream&, int err) {
  tcp_ = nullptr;
  closing_ = true;
  if (io_->flushes) io_->flushes->remove(&flush_node_);
  int reported = close_err_ ? close_err_ : err;
  if (!server_ && !connect_reported_) {
    // The socket ended before the handshake did (the callee hung up, refused us...).
    connect_reported_ = true;
    if (reported == 0) reported = kHandshakeFailed;
    handler_->on_connected(*this, reported);
  } else if (!handshaken_ && reported == 0) {
    reported = kHandshakeFailed;
  }
  // A socket that ended mid-handshake without fail() (the peer hung up) failed it too.
  if (!handshaken_ && !close_err_) TlsStats::bump(stats_.failures);
  handler_->on_closed(*this, reported);  // last callback
  destroy(this);
}

}  // namespace ringside::tls
