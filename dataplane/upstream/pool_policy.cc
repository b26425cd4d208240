#include "dataplane/upstream/pool_policy.h"

namespace ringside::upstream {

uint32_t pending_calls(std::span<const ConnectionLoad> connections) {
  uint32_t n = 0;
  for (const ConnectionLoad& c : connections) {
    if (c.active > c.limit) n += c.active - c.limit;
  }
  return n;
}

Placement place_call(std::span<const ConnectionLoad> connections, const PoolLimits& limits,
                     bool may_dial) {
  Placement p;
  for (size_t i = 0; i < connections.size(); ++i) {
    if (connections[i].active < connections[i].limit) {
      p.kind = Placement::Kind::kUse;
      p.index = i;
      return p;
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
