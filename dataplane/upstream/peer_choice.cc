#include "dataplane/upstream/peer_choice.h"

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/upstream/lb/picker.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::invoke {

PeerChoice choose_peer(ShardServices* svc, std::string_view app_id, std::string_view ns,
                       std::span<const uint64_t> exclude) {
  PeerChoice c;
  const snapshot::InstanceTable* table = svc->snapshots->current();
  std::span<const snapshot::Instance> instances = table->find(app_id, ns);
  lb::PickRequest req{.app_id = app_id, .app_namespace = ns, .exclude = exclude};
  const snapshot::Instance* inst = svc->picker->pick(req, instances);
  if (!inst && !exclude.empty()) {
    req.exclude = {};
    inst = svc->picker->pick(req, instances);
  }
  if (!inst) return c;
  c.conn = svc->peers->get(inst->addr);
  c.authority = inst->address_text;
  c.instance_id = inst->id;
  c.outcome = c.conn ? PeerChoice::Outcome::kOk : PeerChoice::Outcome::kUnreachable;
  return c;
}

}  // namespace ringside::invoke
