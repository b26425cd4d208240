#pragma once
// ShardCounters: one shard's request counters. Written only by the owning shard (relaxed
// atomic stores, no read-modify-write contention), read by the metrics thread.
// Cache-line aligned: the shards' counters sit in one array, and a shard writing its own
// counters must not invalidate the line another shard is writing (false sharing).
#include <atomic>
#include <cstdint>

#include "dataplane/runtime/dapr_metrics.h"  // issue 11: daprd's series
#include "dataplane/runtime/stage_histograms.h"

namespace ringside::shard {

struct alignas(64) ShardCounters {
  std::atomic<uint64_t> http_requests{0};     // HTTP API requests answered
  std::atomic<uint64_t> invoke_requests{0};   // invocations started (HTTP API)
  std::atomic<uint64_t> invoke_streamed{0};   // of those, sent as CallLocalStream (large/chunked body)
  std::atomic<uint64_t> invoke_errors{0};     // invocations answered with a Dapr error
  std::atomic<uint64_t> peer_calls{0};        // CallLocal calls sent to peers (incl. retries)
  std::atomic<uint64_t> peer_retries{0};      // built-in retries
  std::atomic<uint64_t> lookups_requested{0}; // app ids this shard asked the control plane to look up
  std::atomic<uint64_t> calls_parked{0};      // calls that waited for a lookup of their app id
  std::atomic<uint64_t> calllocal_served{0};  // CallLocal calls served on the internal port
  std::atomic<uint64_t> app_calls{0};         // requests sent to our app
  std::atomic<uint64_t> app_errors{0};        // app calls that failed in transport
  std::atomic<uint64_t> app_connections{0};   // issue 11: open (or dialling) connections to our app
  std::atomic<uint64_t> app_calls_waiting{0}; // issue 11: calls in this shard's --app-max-concurrency queue
  std::atomic<uint64_t> connections_open{0};  // open TCP connections (all kinds)
  // Issue 10, limits: what the HTTP API port refused or timed out.
  std::atomic<uint64_t> http_read_timeouts{0};   // heads/bodies too slow: 408 and closed
  std::atomic<uint64_t> http_idle_closed{0};     // keep-alive connections idle past --http-idle-timeout
  std::atomic<uint64_t> connections_refused{0};  // accepted past --max-connections: refused at once
  std::atomic<uint64_t> grpc_read_timeouts{0};   // gRPC ports: preface or header block too slow: closed
  std::atomic<uint64_t> grpc_idle_closed{0};     // gRPC ports: idle past --http-idle-timeout: GOAWAY
  std::atomic<uint64_t> tls_handshakes{0};         // issue 10: mTLS handshakes completed (both roles)
  std::atomic<uint64_t> tls_handshake_failures{0}; // issue 10: mTLS handshakes refused or failed
  std::atomic<uint64_t> peer_connections{0};  // open HTTP/2 connections to peer sidecars (owned by the pool)
  std::atomic<uint64_t> peer_dials{0};        // connections to peer sidecars dialled
  std::atomic<uint64_t> peer_calls_queued{0}; // calls that waited for a free stream (all connections full)
  std::atomic<uint64_t> peer_calls_refused{0};// calls failed fast: every connection full, queue full
  std::atomic<uint64_t> peer_keepalive_failures{0};  // connections failed by an unanswered PING
  std::atomic<uint64_t> peer_deadlines{0};    // peer calls ended by their deadline (DEADLINE_EXCEEDED)
  std::atomic<uint64_t> lb_ejections{0};          // instances ejected by outlier detection
  std::atomic<uint64_t> lb_panic_picks{0};        // picks made with every instance ejected/backing off
  std::atomic<uint64_t> lb_skipped_instances{0};  // unhealthy instances passed over by a pick
  std::atomic<uint64_t> lb_fast_retries{0};       // built-in retries sent at once to another instance
  std::atomic<uint64_t> cluster_picks_local{0};     // peer picks (calls and retries) of a local instance
  std::atomic<uint64_t> cluster_picks_external{0};  // peer picks of an instance in another cluster
  std::atomic<uint64_t> broadcast_calls{0};      // unary invocations fanned out by the broadcast strategy
  std::atomic<uint64_t> broadcast_rejected{0};   // streamed bodies / proxied calls refused by it (unary only)
  std::atomic<uint64_t> heap_allocations{0};  // global allocator calls on this thread (counting builds)
  std::atomic<uint64_t> recv_enobufs{0};      // recv completions that found the buffer ring empty (ENOBUFS)
  std::atomic<uint64_t> cq_overflow{0};       // the ring's kernel CQ overflow counter (last value seen)
  std::atomic<uint64_t> table_version{0};     // version of the InstanceTable snapshot this shard last saw
  std::atomic<int64_t> table_seen_ns{0};      // monotonic time the shard first saw that version
  StageHistograms stages;                     // per-stage latency histograms (issue 11 contract)
  DaprMetrics dapr;                           // issue 11: daprd's invocation series (spec §9a), per peer app id

  static void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // Stores only when the value changed: an unchanged store still dirties the cache line the
  // metrics thread reads (the loop calls this every turn).
  static void set(std::atomic<uint64_t>& c, uint64_t v) {
    if (c.load(std::memory_order_relaxed) != v) c.store(v, std::memory_order_relaxed);
  }
  static void drop(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
};

}  // namespace ringside::shard
