// The service registration daprd's consul resolver sends to PUT /v1/agent/service/register
// (components-contrib nameresolution/hashicorp/consul/consul.go getRegistrationConfig).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "controlplane/resolvers/consul/consul_options.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::resolvers::consul {

struct Registration {
  std::string service_id;  // what PUT /v1/agent/service/deregister/<id> removes
  Json body;               // the AgentServiceRegistration JSON
};

// The host part of SelfRegistration::address ("10.0.0.5:50002" -> "10.0.0.5", "[::1]:1" -> "::1").
std::string host_of(std::string_view host_port);

// nullopt when nothing is registered (selfRegister false and no advancedRegistration).
// Self registration: ID "<appId>-<host>-<daprHttpPort>", Name = app id, Address = host,
// Port = app port, Meta[daprPortMetaKey] = internal gRPC port, Checks = configuration.checks
// or daprd's HTTP check on /v1.0/healthz?appid=<appId> every 15s, Tags/Meta from the config.
// advancedRegistration is sent as configured, with Meta[daprPortMetaKey] added.
absl::StatusOr<std::optional<Registration>> build_registration(const ConsulOptions& options,
                                                               const SelfRegistration& self);

}  // namespace ringside::resolvers::consul
