#include "dataplane/upstream/pool_policy.h"

namespace ringside::upstream {

uint32_t pending_calls(std::span<const ConnectionLoad> connections) {
  uint32_t n = 0;
  for (const ConnectionLoad& c : connections) {
    if (c.active > c.limit) n += c.active - c.limit;
  }
  return n;
}

uint32_t spread_width(uint32_t peer_shards, const PoolLimits& limits) {
  if (peer_shards <= 1) return 1;
  return peer_shards < limits.max_connections ? peer_shards : limits.max_connections;
}

Placement place_call(std::span<const ConnectionLoad> connections, const PoolLimits& limits,
                     bool may_dial, const Spread& spread) {
  Placement p;
  const size_t n = connections.size();
  if (spread.width > 1) {
    // One connection per callee shard: a missing one is dialled as a spare (each new one lands
    // on another callee shard). Calls rotate over the ready connections first.
    const bool want_spare = n < spread.width && n < limits.max_connections && may_dial;
    const size_t start = n > 0 ? spread.cursor % n : 0;
    for (int pass = 0; pass < 2; ++pass) {
      const bool ready = pass == 0;
      for (size_t k = 0; k < n; ++k) {
        const size_t i = start + k < n ? start + k : start + k - n;
        if (connections[i].ready == ready && connections[i].active < connections[i].limit) {
          p.kind = Placement::Kind::kUse;
          p.index = i;
          p.dial_spare = want_spare;
          return p;
        }
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (connections[i].active < connections[i].limit) {
        p.kind = Placement::Kind::kUse;
        p.index = i;
        return p;
      }
    }
  }
  if (may_dial && connections.size() < limits.max_connections) {
    p.kind = Placement::Kind::kDial;
    return p;
  }
  if (connections.empty()) return p;  // kNone
  if (pending_calls(connections) >= limits.max_pending) {
    p.kind = Placement::Kind::kRefuse;
    return p;
  }
  // The shortest wait: fewest calls queued beyond the limit, the oldest connection on a tie.
  size_t best = 0;
  uint32_t best_wait = UINT32_MAX;
  for (size_t i = 0; i < connections.size(); ++i) {
    uint32_t wait = connections[i].active - connections[i].limit;  // active >= limit here
    if (wait < best_wait) {
      best_wait = wait;
      best = i;
    }
  }
  p.kind = Placement::Kind::kQueue;
  p.index = best;
  return p;
}

uint32_t planning_limit(uint32_t advertised, bool settings_received, uint32_t learned) {
  if (settings_received) return advertised;
  return learned ? learned : kAssumedPeerStreams;
}

}  // namespace ringside::upstream
