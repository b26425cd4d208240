#pragma once
// PeerPool: this shard's HTTP/2 connections to peer sidecars (or to our gRPC app), grouped by
// peer address. Every connection the pool dials stays listed in its peer's group until its
// stream is closed, so none is ever unowned: close_all() reaches all of them and shutdown
// never waits for one the pool forgot.
//
// Per peer (docs/peer-connections.md; the placement rules are pool_policy.h):
// - calls go to the oldest connection with a free stream (the peer's
//   SETTINGS_MAX_CONCURRENT_STREAMS); with all full, another connection is dialled, up to
//   max_connections; at the cap a call waits for a stream (nghttp2 holds its HEADERS until
//   one frees) unless max_pending already wait: then it is refused (kRefused, fail fast).
// - connections beyond the first that carried no call for the idle timeout are closed; a
//   connection that is GOAWAY'd, out of stream ids or failed takes no new calls and is closed
//   once idle (a fresh one takes the calls meanwhile).
// - dial failures back off per address (dial storms help no one), so a dead peer costs a fast
//   local error, not a connect per request.
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "controlplane/snapshot/socket_address.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/runtime/timer_list.h"
#include "dataplane/upstream/peer_connection.h"
#include "dataplane/upstream/pool_policy.h"

namespace ringside::upstream {

class PeerPool {
 public:
  enum class Kind {
    kPeers,  // peer sidecars: default call deadline, counted in ringside_peer_connections
    kApp,    // our gRPC app: the callee already enforces the caller's deadline
  };
  // Limits and timeouts come from svc->settings (SidecarSettings::peer_*).
  explicit PeerPool(invoke::ShardServices* svc, Kind kind = Kind::kPeers);
  ~PeerPool();
  PeerPool(const PeerPool&) = delete;
  PeerPool& operator=(const PeerPool&) = delete;

  // Why get() returned nullptr.
  enum class Miss {
    kNone,        // a connection was returned
    kBackingOff,  // no usable connection and the address is in dial back-off (or dial failed)
    kRefused,     // every connection is full and max_pending calls already wait for a stream
  };
  // The connection to start a call to `addr` on, dialling if needed (see the rules above).
  // nullptr with *miss set when none can take it now. `expect` (peer pools with mTLS): whom
  // the callee's certificate must name; a connection verified for another app id at the same
  // address (the address was reused) is retired, never shared.
  PeerConnection* get(const snapshot::SocketAddress& addr, Miss* miss = nullptr,
                      const ExpectedPeer* expect = nullptr);
  // Whether a call to `addr` would find it in dial back-off right now (health-aware picking
  // skips such instances while others exist). No allocation.
  bool backing_off(const snapshot::SocketAddress& addr) const;
  // Closes every connection (shutdown).
  void close_all();
  // Peer addresses known (groups, including ones without connections).
  size_t size() const { return groups_.size(); }
  // Connections owned right now, over all peers.
  size_t connection_count() const { return connections_; }

  bool counts_peers() const { return kind_ == Kind::kPeers; }
  int64_t default_call_timeout_ns() const { return default_call_timeout_ns_; }
  int64_t keepalive_interval_ns() const { return keepalive_interval_ns_; }
  int64_t keepalive_timeout_ns() const { return keepalive_timeout_ns_; }

 private:
  friend class PeerConnection;
  // The connections to one address, oldest first, and its dial back-off state.
  struct Group {
    PeerConnection* head = nullptr;   // oldest connection
    PeerConnection* tail = nullptr;   // newest connection
    uint32_t count = 0;               // connections listed (any state)
    uint32_t learned_max_streams = 0; // the peer's MAX_CONCURRENT_STREAMS once seen (0 = not yet)
    uint32_t learned_shards = 0;      // the shards a ringside peer advertised (0 = none / not yet)
    uint32_t cursor = 0;              // rotation over the connections (pool_policy.h, Spread)
    int64_t retry_after_ns = 0;       // no new dial before this (after a failed dial)
    int failures = 0;                 // consecutive failed dials
  };
  // The connection closed (from its on_link_closed): unlisted; dial_failed starts back-off.
  void forget(PeerConnection* c, bool dial_failed);
  PeerConnection* dial(Group* g, const snapshot::SocketAddress& addr, const ExpectedPeer* expect);
  void link(Group* g, PeerConnection* c);
  void unlink(Group* g, PeerConnection* c);
  // ringside_peer_connections = connections_ (peer pools only).
  void publish_count();
  // Closes idle extra connections and retired idle ones; re-arms while connections exist.
  static void on_sweep(void* self);
  void arm_sweep();

  invoke::ShardServices* svc_;
  Kind kind_;                                   // peers or our gRPC app
  PoolLimits limits_;                           // per peer
  int64_t idle_timeout_ns_;                     // extra connections idle this long close
  int64_t keepalive_interval_ns_;               // silence with calls in flight before a PING
  int64_t keepalive_timeout_ns_;                // PING answer bound
  int64_t default_call_timeout_ns_;             // deadline of calls without one (0 = none)
  absl::flat_hash_map<uint64_t, Group*> groups_;  // by SocketAddress::key(); pool memory
  size_t connections_ = 0;                      // connections listed over all groups
  shard::Timer sweep_;                          // idle sweep (armed while connections exist)
};

}  // namespace ringside::upstream
