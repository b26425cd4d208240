#pragma once
// Broadcast targets: whether a unary invocation of an app id fans out to every usable instance
// (the `broadcast` cluster strategy, docs/multicluster.md) and which instances those are.
// Kept apart from the fan-out itself (broadcast_call.h) so the enumeration can move to the
// strategy filter of upstream/peer_choice.cc (one seam for all five strategies) without
// touching the call.
#include <cstddef>
#include <span>
#include <string_view>

#include "controlplane/snapshot/instance.h"
#include "controlplane/snapshot/instance_table.h"
#include "dataplane/runtime/shard_services.h"

namespace ringside::invoke {

// At most this many instances receive one broadcast call; instances beyond it (in table order)
// are not called. Bounds the per-call state (one block of the shard pool).
inline constexpr size_t kMaxBroadcastFanOut = 64;

// Whether calls to app_id use the broadcast strategy: the sidecar names its cluster
// (spec.ringside.multiCluster.cluster) and the strategy of app_id is `broadcast`.
bool broadcast_strategy(const snapshot::InstanceTable& table, std::string_view app_id);

// The instances of `instances` a broadcast calls now, into `out` (at most out.size()): every
// instance of every cluster that is healthy in the table, not ejected by outlier detection and
// whose address is not in dial back-off. Returns how many were written. No allocation.
size_t usable_broadcast_targets(ShardServices* svc, std::span<const snapshot::Instance> instances,
                                std::span<const snapshot::Instance*> out);

}  // namespace ringside::invoke
