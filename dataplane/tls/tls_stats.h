#pragma once
// TlsStats: where a TLS stream counts its handshakes (issue 10): two of its shard's counters
// (ShardCounters::tls_handshakes / tls_handshake_failures, rendered as
// ringside_tls_handshakes_total / ringside_tls_handshake_failures_total). Written by the shard
// only (relaxed load + store, no read-modify-write), read by the metrics thread.
#include <atomic>
#include <cstdint>

namespace ringside::tls {

struct TlsStats {
  std::atomic<uint64_t>* handshakes = nullptr;  // completed, peer verified (both roles)
  std::atomic<uint64_t>* failures = nullptr;    // refused or failed before completing
  static void bump(std::atomic<uint64_t>* c) {
    if (c) c->store(c->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

}  // namespace ringside::tls
