#include "dataplane/upstream/call_health.h"

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/runtime/timer_list.h"
#include "dataplane/upstream/peer_choice.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::upstream {

lb::CallOutcome outcome_of_grpc_status(int grpc_status) {
  return grpc_status == 14 || grpc_status == 13 ? lb::CallOutcome::kFailure : lb::CallOutcome::kSuccess;
}

void note_call_start(invoke::ShardServices* svc, uint64_t instance_id) {
  if (svc->picker) svc->picker->on_call_start(instance_id);
}

void note_call_end(invoke::ShardServices* svc, uint64_t instance_id, lb::CallOutcome outcome) {
  if (!svc->picker) return;
  svc->picker->on_call_end(instance_id, outcome, shard::monotonic_ns(),
                           svc->snapshots->current()->outlier_detection());
}

bool another_instance_usable(invoke::ShardServices* svc, std::string_view app_id, std::string_view ns,
                             std::span<const uint64_t> exclude) {
  const int64_t now = shard::monotonic_ns();
  if (ns.empty() && svc->settings) ns = svc->settings->app_namespace;  // as choose_peer
  // Only the instances the app id's cluster strategy may send to (all of them for local-first
  // and external-first: a retry crosses to the other class at once).
  const snapshot::InstanceTable* table = svc->snapshots->current();
  const snapshot::InstanceTable::Pool pool = table->find_pool(app_id, ns);
  std::span<const snapshot::Instance> allowed = pool.instances;
  const snapshot::ClusterStrategy strategy = invoke::cluster_strategy(svc, app_id);
  if (strategy == snapshot::ClusterStrategy::kLocalOnly) allowed = pool.local.instances;
  if (strategy == snapshot::ClusterStrategy::kExternalOnly) allowed = pool.external.instances;
  for (const snapshot::Instance& inst : allowed) {
    bool failed_here = false;
    for (uint64_t x : exclude) failed_here = failed_here || x == inst.id;
    if (failed_here) continue;
    if (svc->picker && !svc->picker->healthy(inst.id, now)) continue;
    if (svc->peers && svc->peers->backing_off(inst.addr)) continue;
    return true;
  }
  return false;
}

}  // namespace ringside::upstream
