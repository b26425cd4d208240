// Arbitrary bytes as (1) a SPIFFE ID string and (2) a DER certificate whose SPIFFE ID the
// callee would trust for access control. Whatever parses must print back to the same text and
// stay within the identity alphabet.
#include <openssl/x509.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dataplane/tls/spiffe_id.h"
#include "dataplane/tls/tls_context.h"

namespace {
void check(std::string_view text, const ringside::tls::SpiffeId& id) {
  std::string back = "spiffe://" + std::string(id.trust_domain) + "/ns/" + std::string(id.app_namespace) + "/" +
                     std::string(id.app_id);
  if (back != text) std::abort();
  for (char c : back) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ringside::tls::SpiffeId id;
  if (ringside::tls::parse_spiffe_id(text, &id)) check(text, id);

  const unsigned char* p = data;
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(size));
  if (cert) {
    char buf[300];
    if (ringside::tls::certificate_spiffe_id(cert, buf, sizeof buf, &id)) check(std::string_view(buf), id);
    X509_free(cert);
  }
  return 0;
}
