#include "controlplane/resolvers/kubernetes/kubernetes_resolver.h"

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/yaml_fields.h"
#include "controlplane/resolvers/dns_apps/configuration_node.h"

namespace ringside::resolvers {

namespace {
std::string at(const char* key) { return absl::StrCat(config::to_absl(kConfigurationPath), ".", key); }
}  // namespace

absl::StatusOr<KubernetesOptions> parse_kubernetes_options(std::string_view configuration_yaml) {
  absl::StatusOr<YAML::Node> cfg = configuration_node(configuration_yaml);
  if (!cfg.ok()) return cfg.status();
  KubernetesOptions out;
  absl::StatusOr<std::string> domain = optional_string(*cfg, "clusterDomain");
  if (!domain.ok()) return domain.status();
  if (!domain->empty()) {  // daprd: an empty value keeps the default
    absl::StatusOr<DnsTarget> probe = dns_target_from_text(absl::StrCat("x.", *domain), 1);
    if (!probe.ok() || domain->find(':') != std::string::npos || *domain == ".")
      return config::path_error(at("clusterDomain"), absl::StrCat(config::quoted(*domain), " is not a DNS domain"));
    out.cluster_domain = *domain;
    if (out.cluster_domain.back() == '.') out.cluster_domain.pop_back();  // we add the root's dot
  }
  absl::StatusOr<std::string> tmpl = optional_string(*cfg, "template");
  if (!tmpl.ok()) return tmpl.status();
  if (!tmpl->empty()) {  // daprd: an empty template means the default name
    absl::StatusOr<AddressTemplate> parsed = AddressTemplate::parse(*tmpl);
    if (!parsed.ok()) return config::path_error(at("template"), config::to_std(parsed.status().message()));
    out.address_template = *std::move(parsed);
  }
  absl::StatusOr<dns::DnsOptions> dns = dns::parse_dns_options(*cfg, kConfigurationPath);
  if (!dns.ok()) return dns.status();
  out.dns = *std::move(dns);
  return out;
}

absl::StatusOr<DnsTarget> kubernetes_target(const KubernetesOptions& options, std::string_view app_id,
                                            std::string_view ns, const SelfRegistration& self) {
  if (!options.address_template) {
    // Fully qualified (trailing dot): the name is complete, so the search domains of a pod's
    // resolv.conf (ndots:5) are not tried first on every lookup and refresh.
    return dns_target_from_text(
        absl::StrCat(config::to_absl(app_id), "-dapr.", config::to_absl(ns), ".svc.", options.cluster_domain, "."),
        self.internal_port);
  }
  std::string text = options.address_template->render({app_id, ns, self.internal_port, nullptr});
  absl::StatusOr<DnsTarget> t = dns_target_from_text(text, self.internal_port);
  if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat(at("template"), " rendered ", t.status().message()));
  return t;
}

absl::StatusOr<std::unique_ptr<Resolver>> make_kubernetes_resolver(const config::NameResolution& cfg) {
  absl::StatusOr<KubernetesOptions> options = parse_kubernetes_options(cfg.configuration_yaml);
  if (!options.ok()) return options.status();
  dns::DnsOptions dns = options->dns;
  auto target = [opts = *std::move(options)](std::string_view app_id, std::string_view ns,
                                             const SelfRegistration& self) {
    return kubernetes_target(opts, app_id, ns, self);
  };
  return std::unique_ptr<Resolver>(new DnsAppResolver("kubernetes", std::move(dns), std::move(target), true));
}

}  // namespace ringside::resolvers
