// The `nameformat` resolver (daprd: components-contrib nameresolution/nameformat): app id `b`
// lives at `configuration.format` with every `{appid}` replaced by `b`. daprd hands that text to
// gRPC as is, so a format without a port does not dial (standalone: "missing port"; Kubernetes
// mode's dns:/// target: port 443). ringside makes it dialable: the port in the format when it
// has one (`{appid}.svc.example:50002`), else our own internal gRPC port, the same assumption
// the kubernetes resolver makes. The name is resolved with c-ares (A and AAAA), one instance per
// address. Not namespace-aware. Registers nothing.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "controlplane/config/configuration.h"
#include "controlplane/dns/dns_options.h"
#include "controlplane/resolvers/dns_apps/dns_app_resolver.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::resolvers {

struct NameformatOptions {
  std::string format;   // configuration.format (required, contains "{appid}")
  dns::DnsOptions dns;  // configuration.nameservers, dnsTimeout, ...
};

// Reads spec.nameResolution.configuration (YAML text). Errors name the path.
absl::StatusOr<NameformatOptions> parse_nameformat_options(std::string_view configuration_yaml);

// The format with every "{appid}" replaced by app_id, split into name and port (ours if absent).
absl::StatusOr<DnsTarget> nameformat_target(const NameformatOptions& options, std::string_view app_id,
                                            const SelfRegistration& self);

absl::StatusOr<std::unique_ptr<Resolver>> make_nameformat_resolver(const config::NameResolution& cfg);

}  // namespace ringside::resolvers
