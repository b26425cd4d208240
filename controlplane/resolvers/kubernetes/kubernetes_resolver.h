// The `kubernetes` resolver (daprd: components-contrib nameresolution/kubernetes): app id `b` in
// namespace `ns` lives at `b-dapr.<ns>.svc.<clusterDomain>:<our internal gRPC port>` (the
// headless Service the Dapr operator creates), or wherever `configuration.template` says. The
// name is resolved with c-ares (A and AAAA) and every address becomes one instance, as daprd's
// ResolveIDMulti does. Registers nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "controlplane/config/configuration.h"
#include "controlplane/dns/dns_options.h"
#include "controlplane/resolvers/dns_apps/dns_app_resolver.h"
#include "controlplane/resolvers/kubernetes/address_template.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::resolvers {

struct KubernetesOptions {
  std::string cluster_domain = "cluster.local";  // configuration.clusterDomain
  std::optional<AddressTemplate> address_template;  // configuration.template (none = the Service name)
  dns::DnsOptions dns;                           // configuration.nameservers, dnsTimeout, ...
};

// Reads spec.nameResolution.configuration (YAML text). Errors name the path.
absl::StatusOr<KubernetesOptions> parse_kubernetes_options(std::string_view configuration_yaml);

// The address of (app id, namespace): "<id>-dapr.<ns>.svc.<domain>" and our internal port, or
// the rendered template (its port, else ours).
absl::StatusOr<DnsTarget> kubernetes_target(const KubernetesOptions& options, std::string_view app_id,
                                            std::string_view ns, const SelfRegistration& self);

absl::StatusOr<std::unique_ptr<Resolver>> make_kubernetes_resolver(const config::NameResolution& cfg);

}  // namespace ringside::resolvers
