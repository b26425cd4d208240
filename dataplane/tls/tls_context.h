#pragma once
// TlsContext: one loaded set of mTLS credentials (certificate chain, private key, trust
// anchors) as an OpenSSL SSL_CTX, for both roles of the internal port's connections: server
// (peer sidecars calling us) and client (us calling peer sidecars). Immutable once loaded; a
// certificate rotation loads a new one (controlplane/tls/credentials_watcher.h) and new
// connections use it, while connections already up keep theirs (OpenSSL counts the SSL_CTX's
// users, so the old context lives until its last connection ends).
//
// Policy, as Dapr's sidecars (spec "Security"): TLS 1.2 or later, ALPN h2 (gRPC), both sides
// present an SVID that chains to the trust anchors; expired or wrongly signed certificates fail
// the handshake. The server accepts any SPIFFE ID at the TLS layer (access control decides);
// the client checks the callee's (tls_stream.h). No session tickets or resumption: every
// connection is a full handshake, which is what the handshake figures measure.
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/tls/spiffe_id.h"

namespace ringside::tls {

struct CredentialFiles {
  std::string cert_file;           // PEM: our certificate, then any intermediates
  std::string key_file;            // PEM: its private key
  std::string trust_anchors_file;  // PEM: the CA certificates peers must chain to
};

class TlsContext {
 public:
  // Loads and checks the files: readable PEM, key matching the certificate, our certificate
  // valid now and chaining to the trust anchors, and carrying a Dapr SPIFFE ID. The error
  // names the file and what is wrong with it.
  static absl::StatusOr<std::shared_ptr<const TlsContext>> load(const CredentialFiles& files);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ssl_ctx() const { return ctx_; }
  // Our own identity, from our certificate.
  const SpiffeId& identity() const { return identity_; }
  const std::string& identity_text() const { return identity_text_; }
  // notAfter of our certificate (seconds since the epoch): reported as a metric.
  int64_t not_after_unix() const { return not_after_; }

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;      // owned (one reference)
  std::string identity_text_;   // "spiffe://td/ns/ns/app"; identity_ views into it
  SpiffeId identity_;
  int64_t not_after_ = 0;
};

// The SPIFFE ID of a certificate (its first URI SAN that parses as one), copied into `buf` so
// it outlives the certificate; the views in *out point into buf. False when there is none or it
// does not fit.
bool certificate_spiffe_id(X509* cert, char* buf, size_t buf_size, SpiffeId* out);

}  // namespace ringside::tls
