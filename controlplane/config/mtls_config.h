#pragma once
// mTLS settings from the Configuration (issue 10): daprd's `spec.mtls.enabled`, and where
// ringside finds its credentials, `spec.ringside.mtls` (Dapr gets them from Sentry; ringside
// reads files, so they can come from any CA, a SPIFFE agent or cert-manager):
//
//   spec:
//     mtls: {enabled: true}
//     ringside:
//       mtls: {certFile: /etc/ringside/svid.pem, keyFile: /etc/ringside/svid.key,
//              trustAnchorsFile: /etc/ringside/bundle.pem, reloadInterval: 5s}
//
// Flags win over the file (--enable-mtls, --tls-cert-file, ...): apply_mtls_config() fills
// only what the command line left unset.
#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "controlplane/config/options.h"
#include "yaml-cpp/yaml.h"

namespace ringside::config {

struct MtlsConfig {
  std::optional<bool> enabled;                   // spec.mtls.enabled
  std::string cert_file;                         // spec.ringside.mtls.certFile
  std::string key_file;                          // spec.ringside.mtls.keyFile
  std::string trust_anchors_file;                // spec.ringside.mtls.trustAnchorsFile
  std::optional<std::chrono::milliseconds> reload_interval;  // spec.ringside.mtls.reloadInterval
};

// `dapr_mtls`: spec.mtls (daprd's keys are accepted; only `enabled` is used); `ringside_mtls`:
// spec.ringside.mtls. Either may be undefined. Errors name the key path.
absl::Status parse_mtls(const YAML::Node& dapr_mtls, const YAML::Node& ringside_mtls, MtlsConfig* out);

// Fills what the flags left unset, then checks the result: mTLS on needs the three files.
// Errors name the flag or key.
absl::Status apply_mtls_config(const MtlsConfig& c, Options* o);

}  // namespace ringside::config
