#include "absl/strings/str_cat.h"
#include "controlplane/config/yaml_fields.h"
#include "controlplane/resolvers/consul/consul_resolver.h"
#include "controlplane/resolvers/resolver.h"
#include "controlplane/resolvers/sqlite_resolver.h"
#include "controlplane/resolvers/static_resolver.h"

namespace ringside::resolvers {

absl::StatusOr<std::unique_ptr<Resolver>> make_resolver(const config::NameResolution& cfg) {
  if (cfg.component == "sqlite") return std::unique_ptr<Resolver>(new SqliteResolver(cfg.sqlite));
  if (cfg.component == "static") return std::unique_ptr<Resolver>(new StaticResolver(cfg.static_options));
  if (cfg.component == "consul") return consul::make_consul_resolver(cfg.configuration_yaml);
  return absl::InvalidArgumentError(absl::StrCat("spec.nameResolution.component: \"", cfg.component,
                                                 "\" is not supported by ringside (", config::known_resolvers_text(), ")"));
}

}  // namespace ringside::resolvers
