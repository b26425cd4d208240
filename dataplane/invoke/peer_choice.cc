#include "dataplane/invoke/peer_choice.h"

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/invoke/round_robin.h"
#include "dataplane/pool/peer_pool.h"

namespace ringside::invoke {

PeerChoice choose_peer(ShardServices* svc, std::string_view app_id, std::string_view ns) {
  PeerChoice c;
  const snapshot::InstanceTable* table = svc->snapshots->current();
  std::span<const snapshot::Instance> instances = table->find(app_id, ns);
  if (instances.empty()) return c;
  const snapshot::Instance& inst = instances[svc->round_robin->pick(app_id, instances.size())];
  c.conn = svc->peers->get(inst.ipv4_be, inst.port_be);
  c.authority = inst.address_text;
  c.outcome = c.conn ? PeerChoice::Outcome::kOk : PeerChoice::Outcome::kUnreachable;
  return c;
}

}  // namespace ringside::invoke
