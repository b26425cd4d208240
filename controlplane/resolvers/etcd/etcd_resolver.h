// The etcd resolver (spec.nameResolution.component: etcd), ringside's own for deployments that
// outgrow one host: each sidecar registers under a lease kept alive by a stream (LeaseKeeper)
// and watches every registration under the prefix (InstanceWatcher). All gRPC work runs on the
// resolver's two threads (control plane), never on a shard. See docs/resolvers/etcd.md.
#pragma once

#include <memory>

#include "controlplane/resolvers/etcd/etcd_client.h"
#include "controlplane/resolvers/etcd/etcd_options.h"
#include "controlplane/resolvers/etcd/instance_watcher.h"
#include "controlplane/resolvers/etcd/lease_keeper.h"
#include "controlplane/resolvers/resolver.h"

namespace ringside::resolvers::etcd {

class EtcdResolver final : public Resolver {
 public:
  explicit EtcdResolver(EtcdOptions options);
  ~EtcdResolver() override { stop(); }

  // Registers (grant + put, unless selfRegister is false) and lists, both within dialTimeout;
  // an unreachable etcd is a start-up error. Then starts the keep-alive and watch threads.
  absl::Status start(const SelfRegistration& self, InstanceSink* sink) override;
  bool lists() const override { return false; }
  // Answered from the watched view (the watch already holds every registration).
  void lookup(std::string_view app_id, std::string_view ns) override;
  // Issue 10, app health: deletes our key while our app is unhealthy, puts it back (same lease)
  // when it recovers. Nothing when we do not register.
  absl::Status set_serving(bool serving) override {
    return keeper_ ? keeper_->set_serving(serving) : absl::OkStatus();
  }
  // Revokes our lease (deletes our key) and joins the threads.
  void stop() override;
  bool namespace_aware() const override { return true; }

  // Test hook: ends the threads like a crash would, without revoking the lease, so the
  // registration stays until its TTL runs out.
  void abandon_for_testing();

  const LeaseKeeper* lease_keeper() const { return keeper_.get(); }      // null when not registering
  const InstanceWatcher* watcher() const { return watcher_.get(); }      // null before start()

 private:
  EtcdOptions options_;                       // parsed configuration
  std::unique_ptr<EtcdClient> client_;        // shared by keeper_ and watcher_
  std::unique_ptr<LeaseKeeper> keeper_;       // our registration
  std::unique_ptr<InstanceWatcher> watcher_;  // everyone's registrations
};

}  // namespace ringside::resolvers::etcd
