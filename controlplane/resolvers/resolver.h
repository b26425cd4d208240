// Resolver: the seam between the control plane and a name-resolution backend (BRIEF §4).
// Resolvers run on the control plane only, never on a shard; blocking I/O is allowed on the
// control-plane thread, and a resolver may run threads of its own (watch streams, mDNS
// sockets, DNS) that report through the InstanceSink.
//
// Two shapes, one interface:
// - listing resolvers (sqlite, static): lists() is true; list() returns every live instance and
//   is polled every refresh interval and whenever the data plane misses an app id;
// - pushing resolvers (etcd watch, mDNS, Kubernetes DNS, Consul): lists() is false; they report
//   changes through the sink (publish_all for a full view, publish_app for one app id) and
//   answer lookup() for an app id the table lacks, now or later, from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
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
  std::string host_name;      // this machine's host name (mDNS instance and host records)
  int http_port = 0;          // our Dapr HTTP API port
  int grpc_port = 0;          // our Dapr gRPC API port
  int internal_port = 0;      // our internal gRPC port (the port in `address`)
  int app_port = 0;           // our app's port; 0 = no app
  std::string cluster;        // our cluster name ("" = the local cluster)
};

// Where pushing resolvers report. Implemented by the control plane; every method is
// thread-safe and cheap (it queues and wakes the control-plane thread).
class InstanceSink {
 public:
  virtual ~InstanceSink() = default;
  // The resolver's complete view, replacing everything it reported before (publish_all and
  // publish_app alike).
  virtual void publish_all(std::vector<snapshot::Instance> instances) = 0;
  // Everything known for app_id in namespace ns ("" when the resolver ignores namespaces),
  // replacing what was reported for that key. Empty = looked up and none found: parked calls
  // fail at once with "no host found".
  virtual void publish_app(std::string app_id, std::string ns, std::vector<snapshot::Instance> instances) = 0;
  // The registry could not be read (down, refused, bad answer). Logged once per distinct text;
  // the last good table keeps serving. OkStatus() clears it (the next error is logged again).
  virtual void report_status(const absl::Status& status) = 0;
};

class Resolver {
 public:
  virtual ~Resolver() = default;

  // Registers us (where the backend supports it) and starts any watch. An empty self.app_id =
  // watch only: sqlite, static and etcd then register nothing (ringside-sync reads a registry
  // without joining it). `sink` stays valid until
  // stop() returns; nothing may call it afterwards. Errors are start-up errors (exit 1).
  virtual absl::Status start(const SelfRegistration& self, InstanceSink* sink) = 0;
  // Keeps the registration alive; called on the control thread every heartbeat_interval().
  virtual absl::Status heartbeat() { return absl::OkStatus(); }
  virtual std::chrono::milliseconds heartbeat_interval() const { return std::chrono::minutes(1); }

  // Listing resolvers: every live instance now (ours included). Control thread only.
  virtual bool lists() const { return true; }
  virtual absl::StatusOr<std::vector<snapshot::Instance>> list() {
    return absl::UnimplementedError("this resolver does not list");
  }

  // Pushing resolvers: the data plane needs app_id in namespace ns and the table has no entry
  // for it. Answer through the sink's publish_app (now or later, any thread); the control plane
  // de-duplicates requests, so a lookup already in flight may be asked again only after it was
  // answered. Control thread only. Never called on listing resolvers (they are listed again).
  virtual void lookup(std::string_view app_id, std::string_view ns) { (void)app_id, (void)ns; }

  // Issue 10, app health: false = our app is unhealthy, so withdraw our registration (callers
  // then pick other instances); true = it is healthy again, so restore it. Control thread only,
  // after start(); called on transitions only. Default: nothing (the resolver cannot report
  // health; callers keep picking us and get daprd's "app is not in a healthy state"). Supported
  // by sqlite, etcd, Consul and mDNS (see docs/app-health.md).
  virtual absl::Status set_serving(bool serving) {
    (void)serving;
    return absl::OkStatus();
  }

  // Deregisters (clean shutdown), stops watches and joins the resolver's threads. Safe to call
  // twice or without start().
  virtual void stop() = 0;
  // Whether instances carry a meaningful namespace (InstanceTable::find honours it).
  virtual bool namespace_aware() const = 0;
};

// The resolver named by spec.nameResolution.component.
absl::StatusOr<std::unique_ptr<Resolver>> make_resolver(const config::NameResolution& cfg);

}  // namespace ringside::resolvers
