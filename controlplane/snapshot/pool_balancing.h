// PoolBalancing: what the control plane precomputes for the instances of one app id (one
// InstanceTable range) so a shard's pick is a few loads: the app's policy, a weighted schedule
// when weights differ, and the consistent-hash lookup structure (Maglev table or hash ring).
// Immutable once built; shards read it without locks as part of the table.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "controlplane/snapshot/instance.h"
#include "controlplane/snapshot/load_balancing.h"

namespace ringside::snapshot {

// Instances beyond this count in one pool are not covered by the schedule/hash tables
// (their entries are 16-bit indices); they are still reachable by the unweighted policies.
inline constexpr size_t kMaxBalancedInstances = 65535;

// 8 bytes: a 32-bit position (ketama's width) keeps a 1,280-point ring in 10 KiB.
struct RingPoint {
  uint32_t hash;    // position on the ring (compared with the key's top 32 bits)
  uint32_t index;   // instance index within the pool
};

struct PoolBalancing {
  AppLoadBalancing config;          // policy and hash header of the app id
  std::vector<uint16_t> schedule;   // weighted round-robin order (smooth WRR) of instance
                                    // indices; empty when every weight is equal
  std::vector<uint16_t> maglev;     // Maglev lookup table (prime size) of instance indices; maglev only
  std::vector<RingPoint> ring;      // sorted hash ring; ringHash only
  std::vector<uint32_t> ring_buckets;  // first ring position of each key range of 2^(32-shift)
                                       // values: a lookup is one bucket load plus ~1 step
  uint32_t ring_bucket_shift = 31;     // key >> 32 >> shift = bucket

  // Index of the instance a key maps to, or -1 when there is no hash table. `probe` = 0 is the
  // key's own instance; 1, 2, ... walk on to the next distinct entries (used when the first is
  // unusable), so fall-back choices are themselves consistent.
  int64_t hash_index(uint64_t key, uint32_t probe = 0) const;
};

// Builds the balancing data of one pool (instances of one app id, in table order).
PoolBalancing build_pool_balancing(std::span<const Instance> instances, const AppLoadBalancing& config);

// Maglev table size for n instances: a prime at least 100·n (≤ 1% imbalance), capped at 65521.
uint32_t maglev_table_size(size_t n);

}  // namespace ringside::snapshot
