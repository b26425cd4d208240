#pragma once
// Where a new call to one peer goes, given the load of the pool's connections to it: the pure
// bookkeeping of PeerPool (no I/O, no clock), so it is unit-tested on its own.
//
// Connections are considered in the order they were dialled. The first one with a free stream
// takes the call, so load concentrates on the oldest connections and extra ones fall idle (and
// close after the idle timeout). With every connection full, another one is dialled while the
// pool holds fewer than max_connections. At the cap, the call waits for a stream (on the
// connection with the shortest wait) unless max_pending calls already wait; then it is refused.
//
// Spread (a ringside callee advertised S shards): the pool keeps min(S, max_connections)
// connections -- the callee's accept balancer puts each on another of its shards -- and calls
// take them in turn (the first with a free stream from a rotating start), so the callee's
// shards share the load evenly even at one call at a time. The extra connections are dialled
// as spares: the call that finds one missing goes on a ready connection, and a connection whose
// SETTINGS have not arrived (still connecting, or in its TLS handshake) takes calls only when
// no ready one has a free stream, so no call waits for a spread connection to come up.
#include <cstddef>
#include <cstdint>
#include <span>

namespace ringside::upstream {

// One connection that takes calls, as the policy sees it.
struct ConnectionLoad {
  uint32_t active = 0;  // calls started and not ended (in flight and waiting for a stream)
  uint32_t limit = 0;   // streams the peer allows at once (SETTINGS_MAX_CONCURRENT_STREAMS)
  bool ready = true;    // the peer's SETTINGS arrived (only spread placement looks at it)
};

struct Placement {
  enum class Kind {
    kUse,     // start the call on connections[index] now (it has a free stream)
    kQueue,   // start it on connections[index]; it waits there for a free stream
    kDial,    // dial another connection and start the call on it
    kRefuse,  // every connection is full and max_pending calls already wait: fail fast
    kNone,    // no connection and none may be dialled (dial back-off)
  };
  Kind kind = Kind::kNone;
  size_t index = 0;         // for kUse and kQueue
  bool dial_spare = false;  // kUse: also dial another connection now (spread; the call does not wait)
};

struct PoolLimits {
  uint32_t max_connections = 8;  // connections per peer that take calls
  uint32_t max_pending = 1024;   // calls per peer waiting for a stream
};

// Calls waiting for a stream on these connections (above their limits).
uint32_t pending_calls(std::span<const ConnectionLoad> connections);

// How the calls to one peer are spread over its connections.
struct Spread {
  uint32_t width = 1;   // connections to keep and rotate over (the callee's shards; 1 = no spread)
  uint32_t cursor = 0;  // rotation: the connection to try first is cursor % connections
};

// Connections to keep and rotate over for a callee advertising `peer_shards` (0 = not a
// ringside callee): bounded by max_connections.
uint32_t spread_width(uint32_t peer_shards, const PoolLimits& limits);

// `may_dial`: a new connection may be dialled now (not in dial back-off).
Placement place_call(std::span<const ConnectionLoad> connections, const PoolLimits& limits,
                     bool may_dial, const Spread& spread = {});

// Streams a connection is assumed to allow before anything is known about its peer: RFC 9113
// §6.5.2 recommends no less than 100, and it is nghttp2's own assumption.
inline constexpr uint32_t kAssumedPeerStreams = 100;

// The stream limit to plan with for a connection: what its peer advertised once its SETTINGS
// arrived; before that, what another connection to the same peer learned (`learned`, 0 =
// nothing yet), else kAssumedPeerStreams. (On the wire the session opens one stream until
// SETTINGS arrive, http2/session.cc, so the others wait one round trip instead of being
// refused by a peer that allows fewer.)
uint32_t planning_limit(uint32_t advertised, bool settings_received, uint32_t learned);

}  // namespace ringside::upstream
