#pragma once
// choose_peer: the one place a caller picks where an invocation of app_id goes: the instances
// of the current InstanceTable, the shard's picker (lb/picker.h) over them, then this shard's
// pinned connection to the chosen instance (dialled on first use). Unary invocations,
// CallLocalStream callers and the gRPC proxy all use it, so load balancing and cluster
// strategies plug in here once.
#include <cstdint>
#include <span>
#include <string_view>

#include "controlplane/snapshot/cluster_strategy.h"
#include "controlplane/snapshot/instance.h"
#include "controlplane/snapshot/instance_table.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/upstream/lb/picker.h"

namespace ringside::upstream {
class PeerConnection;
}

namespace ringside::invoke {

struct PeerChoice {
  enum class Outcome {
    kOk,           // conn and authority are set
    kNoInstance,   // no instance of app_id in namespace ns (the table says so)
    kUnknown,      // the table has no answer for app_id yet: a lookup was requested; park and retry
    kUnreachable,  // an instance exists but no connection can be made now (dial back-off)
    kOverloaded,   // every connection to the instance is full and its wait queue too
    kNoClusterInstance,  // instances exist, but none in the clusters the strategy allows
                         // (local-only / external-only): see cluster_refusal_text()
    kBroadcast,    // the app id's strategy is broadcast: the caller fans out over
                   // broadcast_targets() (choose_peer never picks one instance for it)
  };
  Outcome outcome = Outcome::kNoInstance;
  upstream::PeerConnection* conn = nullptr;  // the connection to call on
  std::string_view authority;            // "host:port" of the instance (:authority); valid until
                                         // the caller returns to the event loop
  uint64_t instance_id = 0;              // the chosen instance (kOk, kUnreachable)
  snapshot::ClusterStrategy strategy = snapshot::ClusterStrategy::kLocalFirst;  // applied to this call
  std::string_view local_cluster;        // own cluster name ("" = single cluster); valid as authority
};

// `ns` empty = the caller's own namespace.
// An app id the table has no answer for yields kUnknown after asking the control plane to
// look it up (at most once per table per app id; no allocation).
// `exclude`: instances this call already failed on. They are avoided while another instance
// exists; with none left, the pick ignores them (a retry to the only instance).
// `hash_key`: the call's consistent-hash key (upstream/request_hash_key.h; 0 = none).
PeerChoice choose_peer(ShardServices* svc, std::string_view app_id, std::string_view ns,
                       std::span<const uint64_t> exclude = {}, uint64_t hash_key = 0);

// The filter choose_peer applies (without the connection): the instance `strategy` sends a call
// to among `pool` (req.balancing is replaced by each subset's own). The first subset (local for
// local-first/local-only, external for the others) while it has a usable instance, then the
// second (first-strategies only); with none usable anywhere, the picker's panic stages within
// the first non-empty allowed subset. nullptr when the allowed subsets are empty, or broadcast.
const snapshot::Instance* pick_in_clusters(lb::Picker* picker, const lb::PickRequest& req,
                                           const snapshot::InstanceTable::Pool& pool, snapshot::ClusterStrategy strategy);

// The cluster strategy of calls to app_id under the current table: the configured one when the
// sidecar has a cluster name (spec.ringside.multiCluster.cluster), else local-first with every
// instance local (a single cluster). No allocation.
snapshot::ClusterStrategy cluster_strategy(const ShardServices* svc, std::string_view app_id);

// One instance a broadcast goes to, with this shard's connection to it.
struct BroadcastTarget {
  const snapshot::Instance* instance = nullptr;  // in the current table (valid until the caller
                                                 // returns to the event loop)
  upstream::PeerConnection* conn = nullptr;      // nullptr: not reachable now (back-off, full)
  bool local = false;                            // in our own cluster
};
// The usable instances of app_id/ns in every cluster (not ejected, not in dial back-off; when
// none is usable, every instance, as a panic pick would), local first, at most out.size() of
// them, each with its connection (dialled on first use). Returns how many were written.
// Same lookup rules as choose_peer (kUnknown is the caller's to detect first). No allocation.
size_t broadcast_targets(ShardServices* svc, std::string_view app_id, std::string_view ns,
                         std::span<BroadcastTarget> out);

// The message for kNoClusterInstance, e.g. `no usable instance of app id b in the local cluster
// "east" (cluster strategy local-only)`, and for a kBroadcast the caller could not fan out (no
// usable instance in any cluster), written into `buf` (truncated to fit).
std::string_view cluster_refusal_text(const PeerChoice& c, std::string_view app_id, std::span<char> buf);

// The UNAVAILABLE text for a choice without a connection (kUnreachable, kOverloaded), as the
// desc of "rpc error: code = Unavailable desc = ...".
std::string_view unavailable_text(const PeerChoice& c);

}  // namespace ringside::invoke
