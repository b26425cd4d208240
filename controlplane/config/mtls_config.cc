#include "controlplane/config/mtls_config.h"

#include "absl/strings/str_cat.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::config {

absl::Status parse_mtls(const YAML::Node& dapr_mtls, const YAML::Node& ringside_mtls, MtlsConfig* out) {
  if (dapr_mtls && !dapr_mtls.IsNull()) {
    constexpr std::string_view path = "spec.mtls";
    if (!dapr_mtls.IsMap()) return path_error(path, "must be a map");
    // daprd's keys; the Sentry ones configure certificate issuing, which ringside leaves to files.
    if (absl::Status s = known_keys(dapr_mtls, path, {"enabled", "workloadCertTTL", "allowedClockSkew", "sentryAddress",
                                                      "controlPlaneTrustDomain", "tokenValidators"});
        !s.ok())
      return s;
    if (const YAML::Node e = dapr_mtls["enabled"]) {
      absl::StatusOr<bool> b = bool_at(e, "spec.mtls.enabled");
      if (!b.ok()) return b.status();
      out->enabled = *b;
    }
  }
  if (ringside_mtls && !ringside_mtls.IsNull()) {
    constexpr std::string_view path = "spec.ringside.mtls";
    if (!ringside_mtls.IsMap()) return path_error(path, "must be a map");
    if (absl::Status s = known_keys(ringside_mtls, path, {"certFile", "keyFile", "trustAnchorsFile", "reloadInterval"});
        !s.ok())
      return s;
    for (auto [key, field] : {std::pair{"certFile", &out->cert_file}, std::pair{"keyFile", &out->key_file},
                              std::pair{"trustAnchorsFile", &out->trust_anchors_file}}) {
      if (const YAML::Node n = ringside_mtls[key]) {
        absl::StatusOr<std::string> v = scalar(n, join_path(path, key));
        if (!v.ok()) return v.status();
        *field = *v;
      }
    }
    if (const YAML::Node n = ringside_mtls["reloadInterval"]) {
      absl::StatusOr<std::chrono::nanoseconds> d = duration_at(n, "spec.ringside.mtls.reloadInterval");
      if (!d.ok()) return d.status();
      if (d->count() <= 0) return path_error("spec.ringside.mtls.reloadInterval", "must be positive");
      out->reload_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    }
  }
  return absl::OkStatus();
}

absl::Status apply_mtls_config(const MtlsConfig& c, Options* o) {
  if (!o->flag_given("enable-mtls") && c.enabled) o->enable_mtls = *c.enabled;
  if (!o->flag_given("tls-cert-file") && !c.cert_file.empty()) o->tls_cert_file = c.cert_file;
  if (!o->flag_given("tls-key-file") && !c.key_file.empty()) o->tls_key_file = c.key_file;
  if (!o->flag_given("tls-trust-anchors-file") && !c.trust_anchors_file.empty())
    o->tls_trust_anchors_file = c.trust_anchors_file;
  if (!o->flag_given("tls-reload-interval") && c.reload_interval) o->tls_reload_interval = *c.reload_interval;
  if (o->enable_mtls && (o->tls_cert_file.empty() || o->tls_key_file.empty() || o->tls_trust_anchors_file.empty())) {
    return absl::InvalidArgumentError(
        "--enable-mtls: needs --tls-cert-file, --tls-key-file and --tls-trust-anchors-file "
        "(or spec.ringside.mtls certFile, keyFile and trustAnchorsFile)");
  }
  return absl::OkStatus();
}

}  // namespace ringside::config
