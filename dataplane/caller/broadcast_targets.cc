#include "dataplane/caller/broadcast_targets.h"

#include "dataplane/runtime/timer_list.h"
#include "dataplane/upstream/lb/picker.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::invoke {

bool broadcast_strategy(const snapshot::InstanceTable& table, std::string_view app_id) {
  const snapshot::ClusterSettings& c = table.clusters();
  // Strategies apply whenever the sidecar has a cluster name (a static file may tag instances
  // with clusters without any synchronizer); a single-cluster sidecar never broadcasts.
  return !c.local_cluster.empty() && c.strategies.for_app(app_id) == snapshot::ClusterStrategy::kBroadcast;
}

size_t usable_broadcast_targets(ShardServices* svc, std::span<const snapshot::Instance> instances,
                                std::span<const snapshot::Instance*> out) {
  const int64_t now = shard::monotonic_ns();
  size_t n = 0;
  for (const snapshot::Instance& inst : instances) {
    if (n == out.size()) break;
    if (!inst.healthy) continue;
    if (svc->picker && !svc->picker->healthy(inst.id, now)) continue;       // ejected
    if (svc->peers && svc->peers->backing_off(inst.addr)) continue;          // dial back-off
    out[n++] = &inst;
  }
  return n;
}

}  // namespace ringside::invoke
