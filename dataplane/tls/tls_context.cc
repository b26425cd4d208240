#include "dataplane/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace ringside::tls {
namespace {
constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};

// The last OpenSSL error as text ("" when none), clearing the queue.
std::string openssl_error() {
  unsigned long e = ERR_get_error();
  std::string text;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text;
}

// Server side: gRPC needs HTTP/2; a client that offers ALPN without h2 is refused.
int select_h2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
              unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnH2, sizeof kAlpnH2, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int64_t not_after_of(X509* cert) {
  const ASN1_TIME* t = X509_get0_notAfter(cert);
  struct tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}
}  // namespace

bool certificate_spiffe_id(X509* cert, char* buf, size_t buf_size, SpiffeId* out) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return false;
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = n->d.uniformResourceIdentifier;
    auto len = static_cast<size_t>(ASN1_STRING_length(uri));
    if (len >= buf_size) continue;
    std::memcpy(buf, ASN1_STRING_get0_data(uri), len);
    buf[len] = '\0';
    found = parse_spiffe_id(std::string_view(buf, len), out);
  }
  GENERAL_NAMES_free(names);
  return found;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::load(const CredentialFiles& files) {
  std::shared_ptr<TlsContext> c(new TlsContext());
  c->ctx_ = SSL_CTX_new(TLS_method());
  if (!c->ctx_) return absl::InternalError(absl::StrCat("cannot create a TLS context: ", openssl_error()));
  SSL_CTX* ctx = c->ctx_;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Full handshakes only (see the header); no renegotiation (TLS 1.2) either.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Writes go to a sink that always takes everything; the plaintext buffer moves between calls.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_alpn_select_cb(ctx, &select_h2, nullptr);
  if (SSL_CTX_set_alpn_protos(ctx, kAlpnH2, sizeof kAlpnH2) != 0)
    return absl::InternalError("cannot set ALPN h2");

  if (SSL_CTX_load_verify_locations(ctx, files.trust_anchors_file.c_str(), nullptr) != 1)
    return absl::InvalidArgumentError(absl::StrCat(files.trust_anchors_file,
                                                   ": cannot read trust anchors (PEM CA certificates): ", openssl_error()));
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1)
    return absl::InvalidArgumentError(absl::StrCat(files.cert_file, ": cannot read the certificate chain (PEM): ", openssl_error()));
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return absl::InvalidArgumentError(absl::StrCat(files.key_file, ": cannot read the private key (PEM): ", openssl_error()));
  if (SSL_CTX_check_private_key(ctx) != 1)
    return absl::InvalidArgumentError(absl::StrCat(files.key_file, ": the private key does not match the certificate in ",
                                                   files.cert_file));
  // Both roles verify the other side's chain; the server also requires a certificate.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);

  // Our own certificate must be one peers will accept: valid now, chaining to the anchors.
  X509* own = SSL_CTX_get0_certificate(ctx);
  X509_STORE_CTX* check = X509_STORE_CTX_new();
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx, &chain);
  bool ok = check && X509_STORE_CTX_init(check, SSL_CTX_get_cert_store(ctx), own, chain) == 1 &&
            X509_verify_cert(check) == 1;
  std::string why = check && !ok ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(check)) : "";
  X509_STORE_CTX_free(check);
  if (!ok)
    return absl::InvalidArgumentError(absl::StrCat(files.cert_file, ": the certificate does not verify against ",
                                                   files.trust_anchors_file, ": ", why));
  char id[512];
  SpiffeId parsed;
  if (!certificate_spiffe_id(own, id, sizeof id, &parsed))
    return absl::InvalidArgumentError(absl::StrCat(
        files.cert_file, ": the certificate has no SPIFFE ID URI SAN (spiffe://<trust domain>/ns/<namespace>/<app id>)"));
  c->identity_text_ = id;
  // Re-parse over the owned copy so the views live as long as the context.
  parse_spiffe_id(c->identity_text_, &c->identity_);
  c->not_after_ = not_after_of(own);
  return std::shared_ptr<const TlsContext>(std::move(c));
}

}  // namespace ringside::tls
