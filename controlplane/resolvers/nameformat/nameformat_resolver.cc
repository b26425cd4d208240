#include "controlplane/resolvers/nameformat/nameformat_resolver.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/yaml_fields.h"
#include "controlplane/resolvers/dns_apps/configuration_node.h"

namespace ringside::resolvers {

namespace {
constexpr std::string_view kPlaceholder = "{appid}";
std::string format_path() { return absl::StrCat(config::to_absl(kConfigurationPath), ".format"); }
}  // namespace

absl::StatusOr<NameformatOptions> parse_nameformat_options(std::string_view configuration_yaml) {
  absl::StatusOr<YAML::Node> cfg = configuration_node(configuration_yaml);
  if (!cfg.ok()) return cfg.status();
  NameformatOptions out;
  absl::StatusOr<std::string> format = optional_string(*cfg, "format");
  if (!format.ok()) return format.status();
  if (format->empty()) return config::path_error(format_path(), "is required (e.g. \"{appid}.apps.example.com\")");
  if (format->find(kPlaceholder) == std::string::npos)
    return config::path_error(format_path(), absl::StrCat(config::quoted(*format), " must contain {appid}"));
  out.format = *format;
  // The format must give a dialable address for a plain app id (port errors show up here).
  SelfRegistration probe_self;
  probe_self.internal_port = 50002;
  if (absl::StatusOr<DnsTarget> probe = nameformat_target(out, "app", probe_self); !probe.ok())
    return config::path_error(format_path(), absl::StrCat("with {appid}=app gives ", probe.status().message()));
  absl::StatusOr<dns::DnsOptions> dns = dns::parse_dns_options(*cfg, kConfigurationPath);
  if (!dns.ok()) return dns.status();
  out.dns = *std::move(dns);
  return out;
}

absl::StatusOr<DnsTarget> nameformat_target(const NameformatOptions& options, std::string_view app_id,
                                            const SelfRegistration& self) {
  if (app_id.empty()) return absl::InvalidArgumentError("empty app id");  // as daprd
  std::string text = absl::StrReplaceAll(options.format, {{config::to_absl(kPlaceholder), config::to_absl(app_id)}});
  return dns_target_from_text(text, self.internal_port);
}

absl::StatusOr<std::unique_ptr<Resolver>> make_nameformat_resolver(const config::NameResolution& cfg) {
  absl::StatusOr<NameformatOptions> options = parse_nameformat_options(cfg.configuration_yaml);
  if (!options.ok()) return options.status();
  dns::DnsOptions dns = options->dns;
  auto target = [opts = *std::move(options)](std::string_view app_id, std::string_view, const SelfRegistration& self) {
    return nameformat_target(opts, app_id, self);
  };
  return std::unique_ptr<Resolver>(new DnsAppResolver("nameformat", std::move(dns), std::move(target), false));
}

}  // namespace ringside::resolvers
