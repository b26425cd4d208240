#include "dataplane/upstream/peer_choice.h"

#include <iterator>

#include "absl/hash/hash.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/upstream/lb/picker.h"
#include "dataplane/upstream/peer_pool.h"
#include "dataplane/upstream/pool_dial_state.h"

namespace ringside::invoke {
namespace {

// Asks the control plane to look app_id/ns up unless this shard already asked under the same
// table. False when the request cannot be queued (then the call fails as unknown at once).
bool request_lookup(ShardServices* svc, uint64_t table_version, std::string_view app_id, std::string_view ns) {
  if (!svc->reader) return false;
  const uint64_t h = absl::HashOf(app_id, ns);
  for (const ShardServices::AskedLookup& a : svc->asked) {
    if (a.app_hash == h && a.table_version == table_version) return true;
  }
  if (!svc->reader->request_lookup(app_id, ns)) return false;
  svc->asked[svc->asked_next++ % std::size(svc->asked)] = {h, table_version};
  shard::ShardCounters::bump(svc->counters->lookups_requested);
  return true;
}

}  // namespace

PeerChoice choose_peer(ShardServices* svc, std::string_view app_id, std::string_view ns,
                       std::span<const uint64_t> exclude, uint64_t hash_key) {
  PeerChoice c;
  // A target without a namespace means the caller's own, as in daprd (namespace-aware
  // registries hold the same app id in several namespaces).
  if (ns.empty()) ns = svc->settings->app_namespace;
  const snapshot::InstanceTable* table = svc->snapshots->current();
  const snapshot::InstanceTable::Pool pool = table->find_pool(app_id, ns);
  std::span<const snapshot::Instance> instances = pool.instances;
  if (instances.empty() && !table->answered(app_id, ns)) {
    c.outcome = request_lookup(svc, table->version(), app_id, ns) ? PeerChoice::Outcome::kUnknown
                                                                   : PeerChoice::Outcome::kNoInstance;
    return c;
  }
  const upstream::PoolDialState dial(svc->peers);
  lb::PickRequest req{.app_id = app_id, .app_namespace = ns, .hash_key = hash_key, .exclude = exclude,
                      .balancing = pool.balancing, .dial = &dial, .now_ns = shard::monotonic_ns()};
  const snapshot::Instance* inst = svc->picker->pick(req, instances);
  if (!inst && !exclude.empty()) {
    req.exclude = {};
    inst = svc->picker->pick(req, instances);
  }
  if (!inst) return c;
  upstream::PeerPool::Miss miss = upstream::PeerPool::Miss::kNone;
  c.conn = svc->peers->get(inst->addr, &miss);
  c.authority = inst->address_text;
  c.instance_id = inst->id;
  c.outcome = c.conn                                        ? PeerChoice::Outcome::kOk
              : miss == upstream::PeerPool::Miss::kRefused ? PeerChoice::Outcome::kOverloaded
                                                            : PeerChoice::Outcome::kUnreachable;
  return c;
}

std::string_view unavailable_text(const PeerChoice& c) {
  if (c.outcome == PeerChoice::Outcome::kOverloaded) {
    return "connection error: every connection to the peer sidecar is at its stream limit and "
           "the queue of waiting calls is full";
  }
  return "connection error: the peer sidecar is not reachable";
}

}  // namespace ringside::invoke
