#pragma once
// SpiffeId: the identity in a Dapr X.509 SVID's URI SAN, spiffe://<trust domain>/ns/<namespace>/<app id>
// (spec: "SPIFFE ID format"). The callee's access control checks the caller's; the caller checks
// that the callee's names the app id it meant to reach. Views only: whoever parses owns the text.
#include <cstddef>
#include <string_view>

namespace ringside::tls {

struct SpiffeId {
  std::string_view trust_domain;   // e.g. "public"
  std::string_view app_namespace;  // e.g. "default"
  std::string_view app_id;         // the app id
};

// Parses a Dapr SPIFFE ID. False (and *out untouched) unless the text is exactly
// "spiffe://" + non-empty trust domain + "/ns/" + non-empty namespace + "/" + non-empty app id,
// with no further '/', no empty segment and no byte below 0x21 or above 0x7e (so a hostile
// certificate cannot smuggle a separator or a control byte into an identity or a log line).
bool parse_spiffe_id(std::string_view uri, SpiffeId* out);

// Whether `id` names (namespace, app id): the caller's peer check ("any trust domain", spec).
inline bool names_app(const SpiffeId& id, std::string_view app_namespace, std::string_view app_id) {
  return id.app_namespace == app_namespace && id.app_id == app_id;
}

}  // namespace ringside::tls
