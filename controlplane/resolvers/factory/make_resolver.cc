// make_resolver(): the resolver named by spec.nameResolution.component (declared in resolver.h).
#include "absl/strings/str_cat.h"
#include "controlplane/config/yaml_fields.h"
#include "controlplane/resolvers/mdns/mdns_resolver.h"
#include "controlplane/resolvers/consul/consul_resolver.h"
#include "controlplane/resolvers/etcd/etcd_resolver.h"
#include "controlplane/resolvers/kubernetes/kubernetes_resolver.h"
#include "controlplane/resolvers/nameformat/nameformat_resolver.h"
#include "controlplane/resolvers/resolver.h"
#include "controlplane/resolvers/sqlite_resolver.h"
#include "controlplane/resolvers/static_resolver.h"

namespace ringside::resolvers {

absl::StatusOr<std::unique_ptr<Resolver>> make_resolver(const config::NameResolution& cfg) {
  if (cfg.component == "sqlite") return std::unique_ptr<Resolver>(new SqliteResolver(cfg.sqlite));
  if (cfg.component == "mdns") return mdns::make_mdns_resolver(cfg.configuration_yaml);
  if (cfg.component == "static") return std::unique_ptr<Resolver>(new StaticResolver(cfg.static_options));
  if (cfg.component == "etcd") {
    absl::StatusOr<etcd::EtcdOptions> options = etcd::parse_etcd_options(cfg.configuration_yaml);
    if (!options.ok()) return options.status();
    return std::unique_ptr<Resolver>(new etcd::EtcdResolver(*std::move(options)));
  }
  if (cfg.component == "kubernetes") return make_kubernetes_resolver(cfg);
  if (cfg.component == "nameformat") return make_nameformat_resolver(cfg);
  if (cfg.component == "consul") return consul::make_consul_resolver(cfg.configuration_yaml);
  return absl::InvalidArgumentError(absl::StrCat("spec.nameResolution.component: \"", cfg.component,
                                                 "\" is not supported by ringside (", config::known_resolvers_text(), ")"));
}

}  // namespace ringside::resolvers
