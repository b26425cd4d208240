#pragma once
// PeerPool: this shard's HTTP/2 connections to peer sidecars, one pinned connection per peer
// address, dialled lazily on first use and multiplexing every CallLocal to that peer as
// streams. A connection that is GOAWAY'd or failed stops taking calls; the next call dials a
// fresh one while the old one drains. Dial failures back off per address (dial storms help no
// one), so a dead peer costs a fast local error, not a connect per request.
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "controlplane/snapshot/socket_address.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/upstream/peer_connection.h"

namespace ringside::upstream {

class PeerPool {
 public:
  explicit PeerPool(invoke::ShardServices* svc) : svc_(svc) {}
  // The connection to use for a call to `addr`, dialling if needed. nullptr while the address
  // is in dial back-off or when no connection can be made.
  PeerConnection* get(const snapshot::SocketAddress& addr);
  // Whether a call to `addr` would find it in dial back-off right now (health-aware picking
  // skips such instances while others exist). No allocation.
  bool backing_off(const snapshot::SocketAddress& addr) const;
  // Closes every connection (shutdown).
  void close_all();
  size_t size() const { return by_addr_.size(); }

 private:
  friend class PeerConnection;
  void forget(PeerConnection* c, bool dial_failed);
  struct Entry {
    PeerConnection* conn = nullptr;   // current connection (nullptr while backing off)
    int64_t retry_after_ns = 0;       // no new dial before this (after a failed dial)
    int failures = 0;                 // consecutive failed dials
  };
  invoke::ShardServices* svc_;
  absl::flat_hash_map<uint64_t, Entry> by_addr_;
};

}  // namespace ringside::upstream
