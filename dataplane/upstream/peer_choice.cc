#include "dataplane/upstream/peer_choice.h"

#include <cstdio>
#include <iterator>
#include <utility>

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

using snapshot::ClusterStrategy;
using Subset = snapshot::InstanceTable::Subset;

ClusterStrategy strategy_in(const snapshot::InstanceTable* table, std::string_view app_id) {
  const snapshot::ClusterSettings& clusters = table->clusters();
  if (clusters.local_cluster.empty()) return ClusterStrategy::kLocalFirst;
  // No per-app override (the usual case): skip hashing the app id.
  return clusters.strategies.apps.empty() ? clusters.strategies.defaults : clusters.strategies.for_app(app_id);
}

// The instance the strategy sends the call to. A usable instance of the first subset (picker
// stage 1), else one of the second; with none usable in either, the picker's later stages
// (excluded but healthy, panic) run within the first non-empty subset the strategy allows, so a
// strategy never widens itself under panic.
// Each subset keeps its own round-robin cursor (salt 0 local, 1 external).
const snapshot::Instance* pick_by_strategy(lb::Picker* picker, const lb::PickRequest& base, const Subset& first,
                                           uint32_t first_salt, const Subset& second) {
  lb::PickRequest req = base;
  const uint32_t second_salt = first_salt ^ 1;
  for (auto [s, salt] : {std::pair{&first, first_salt}, std::pair{&second, second_salt}}) {
    if (s->instances.empty()) continue;
    req.balancing = s->balancing;
    req.cursor_salt = salt;
    if (const snapshot::Instance* inst = picker->pick_usable(req, s->instances)) return inst;
  }
  const Subset& chosen = first.instances.empty() ? second : first;
  if (chosen.instances.empty()) return nullptr;
  req.balancing = chosen.balancing;
  req.cursor_salt = first.instances.empty() ? second_salt : first_salt;
  const snapshot::Instance* inst = picker->pick(req, chosen.instances);
  if (!inst && !req.exclude.empty()) {
    req.exclude = {};
    inst = picker->pick(req, chosen.instances);
  }
  return inst;
}

}  // namespace

const snapshot::Instance* pick_in_clusters(lb::Picker* picker, const lb::PickRequest& req,
                                           const snapshot::InstanceTable::Pool& pool, snapshot::ClusterStrategy strategy) {
  switch (strategy) {
    case ClusterStrategy::kLocalFirst: return pick_by_strategy(picker, req, pool.local, 0, pool.external);
    case ClusterStrategy::kExternalFirst: return pick_by_strategy(picker, req, pool.external, 1, pool.local);
    case ClusterStrategy::kLocalOnly: return pick_by_strategy(picker, req, pool.local, 0, {});
    case ClusterStrategy::kExternalOnly: return pick_by_strategy(picker, req, pool.external, 1, {});
    case ClusterStrategy::kBroadcast: break;
  }
  return nullptr;
}

snapshot::ClusterStrategy cluster_strategy(const ShardServices* svc, std::string_view app_id) {
  return strategy_in(svc->snapshots->current(), app_id);
}

std::string_view cluster_refusal_text(const PeerChoice& c, std::string_view app_id, std::span<char> buf) {
  const std::string_view strategy = snapshot::to_string(c.strategy);
  const int id_len = static_cast<int>(app_id.size() > 200 ? 200 : app_id.size());
  int n = 0;
  if (c.strategy == ClusterStrategy::kBroadcast) {
    n = snprintf(buf.data(), buf.size(), "no usable instance of app id %.*s in any cluster (cluster strategy broadcast)",
                 id_len, app_id.data());
  } else {
    const bool local = c.strategy == ClusterStrategy::kLocalOnly;
    n = snprintf(buf.data(), buf.size(), "no usable instance of app id %.*s %s the local cluster \"%.*s\" (cluster strategy %.*s)",
                 id_len, app_id.data(), local ? "in" : "outside",
                 static_cast<int>(c.local_cluster.size() > 200 ? 200 : c.local_cluster.size()), c.local_cluster.data(),
                 static_cast<int>(strategy.size()), strategy.data());
  }
  if (n <= 0 || buf.empty()) return {};
  return std::string_view(buf.data(), std::min<size_t>(static_cast<size_t>(n), buf.size() - 1));
}

size_t broadcast_targets(ShardServices* svc, std::string_view app_id, std::string_view ns,
                         std::span<BroadcastTarget> out) {
  if (ns.empty()) ns = svc->settings->app_namespace;
  const snapshot::InstanceTable* table = svc->snapshots->current();
  const std::span<const snapshot::Instance> instances = table->find_pool(app_id, ns).instances;
  const upstream::PoolDialState dial(svc->peers);
  const lb::PickRequest req{.app_id = app_id, .app_namespace = ns, .hash_key = 0, .exclude = {}, .balancing = nullptr,
                            .dial = &dial, .now_ns = shard::monotonic_ns()};
  const bool panic = !svc->picker || !lb::any_usable(*svc->picker, req, instances);
  size_t n = 0;
  for (const snapshot::Instance& inst : instances) {
    if (n == out.size()) break;
    if (!panic && (!svc->picker->healthy(inst.id, req.now_ns) || dial.backing_off(inst.addr))) continue;
    const upstream::ExpectedPeer expect{ns, app_id};  // mTLS: the callee's certificate must name it
    out[n++] = BroadcastTarget{&inst, svc->peers ? svc->peers->get(inst.addr, nullptr, &expect) : nullptr,
                               table->local_instance(inst)};
  }
  return n;
}

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
  c.strategy = strategy_in(table, app_id);
  c.local_cluster = table->clusters().local_cluster;
  if (instances.empty()) return c;
  const upstream::PoolDialState dial(svc->peers);
  const lb::PickRequest req{.app_id = app_id, .app_namespace = ns, .hash_key = hash_key, .exclude = exclude,
                            .balancing = pool.balancing, .dial = &dial, .now_ns = shard::monotonic_ns()};
  if (c.strategy == ClusterStrategy::kBroadcast) {
    c.outcome = PeerChoice::Outcome::kBroadcast;
    return c;
  }
  const snapshot::Instance* inst = pick_in_clusters(svc->picker, req, pool, c.strategy);
  if (!inst) {
    c.outcome = PeerChoice::Outcome::kNoClusterInstance;  // the strategy's subsets are empty
    return c;
  }
  const bool local = table->local_instance(*inst);
  if (svc->counters) {
    shard::ShardCounters::bump(local ? svc->counters->cluster_picks_local : svc->counters->cluster_picks_external);
  }
  upstream::PeerPool::Miss miss = upstream::PeerPool::Miss::kNone;
  const upstream::ExpectedPeer expect{ns, app_id};  // mTLS: the callee's certificate must name it
  c.conn = svc->peers->get(inst->addr, &miss, &expect);
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
