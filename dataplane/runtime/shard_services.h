#pragma once
// ShardServices: the per-shard objects the request path uses, wired by the shard at start.
// Everything here belongs to one shard thread; only `settings` and `snapshots` are shared, and
// both are read-only from the shard's point of view (snapshots via acquire loads).
#include "dataplane/io/io_context.h"
#include "dataplane/mem/deferred_release.h"
#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/runtime/live_connections.h"
#include "dataplane/runtime/parked_calls.h"
#include "dataplane/runtime/shard_counters.h"
#include "dataplane/runtime/timer_list.h"

namespace ringside::shard {
class AcceptBalancer;
}
namespace ringside::lb {
class Picker;
}
namespace ringside::upstream {
class PeerPool;
}
namespace ringside::tls {
class ShardTls;
}

namespace ringside::invoke {

struct SidecarSettings;
class AppChannel;
struct InvokeScratch;
class GrpcAppChannel;

struct ShardServices {
  int shard_index = 0;                          // 0..shards-1
  io::IoContext io;                             // ring, receive buffers, pool
  shard::TimerList timers;                      // retry back-off and shutdown deadlines
  shard::ShardCounters* counters = nullptr;     // this shard's counters
  const SidecarSettings* settings = nullptr;    // shared, immutable
  snapshot::SnapshotRegistry* snapshots = nullptr;  // instance tables from the control plane
  snapshot::SnapshotRegistry::Reader* reader = nullptr;  // this shard's slot: lookups to the control plane
  shard::ParkedCalls* parked = nullptr;         // calls waiting for a lookup of their app id
  // App ids this shard asked the control plane about, by hash, with the table version then:
  // a burst of calls to one unknown app id sends one request per table, not one per call.
  struct AskedLookup {
    uint64_t app_hash = 0;       // hash of app id + namespace
    uint64_t table_version = 0;  // table current when asked
  };
  AskedLookup asked[16] = {};                   // small ring, overwritten in turn
  uint32_t asked_next = 0;                      // next slot of `asked` to overwrite
  upstream::PeerPool* peers = nullptr;              // connections to peer sidecars
  AppChannel* app = nullptr;                    // our app (nullptr without --app-port)
  GrpcAppChannel* grpc_app = nullptr;           // the same, when the app speaks gRPC (proxy target)
  InvokeScratch* scratch = nullptr;             // per-shard scratch for building messages
  lb::Picker* picker = nullptr;                 // load balancer (per-shard state)
  mem::DeferredRelease* deferred = nullptr;     // objects ended this loop turn (freed at its end)
  shard::LiveConnections live;                  // open inbound connections (for draining)
  bool draining = false;                        // shutdown begun: finish in-flight, accept nothing
  // Live connections per shard of the internal port and of the HTTP API port, shared by all
  // shards, which accepted connections go to the emptiest shard by (issue 11, shard balance);
  // nullptr with one shard. A connection counted there releases its count when it ends.
  shard::AcceptBalancer* internal_balancer = nullptr;
  shard::AcceptBalancer* http_balancer = nullptr;
  // Issue 10: this shard's view of the mTLS credentials (nullptr = plaintext internal hop).
  tls::ShardTls* tls = nullptr;
};

}  // namespace ringside::invoke
