// Resolver: the seam between the control plane and a name-resolution backend. All methods
// run on the control-plane thread (blocking I/O allowed), never on a shard.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/config/configuration.h"
#include "controlplane/snapshot/instance.h"

namespace ringside::resolvers {

// What this sidecar announces about itself.
struct SelfRegistration {
  std::string app_id;         // our app id
  std::string app_namespace;  // our namespace (NAMESPACE env, "default")
  std::string address;        // host:port of our internal gRPC listener (see registered_address.h)
  int http_port = 0;          // our Dapr HTTP API port
  int app_port = 0;           // our app's port; 0 = no app
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // Registers us (where the backend supports it); errors are start-up errors.
  virtual absl::Status start(const SelfRegistration& self) = 0;
  // Keeps the registration alive; called every heartbeat_interval().
  virtual absl::Status heartbeat() = 0;
  // Every live instance right now (including our own registration).
  virtual absl::StatusOr<std::vector<snapshot::Instance>> list() = 0;
  // Deregisters (clean shutdown). Safe to call twice or without start().
  virtual void stop() = 0;
  virtual std::chrono::milliseconds heartbeat_interval() const = 0;
  // Whether instances carry a meaningful namespace (InstanceTable::find honours it).
  virtual bool namespace_aware() const = 0;
};

// The resolver named by spec.nameResolution.component ("sqlite" or "static").
absl::StatusOr<std::unique_ptr<Resolver>> make_resolver(const config::NameResolution& cfg);

}  // namespace ringside::resolvers
