// LoadBalancing: spec.ringside.loadBalancing as the control plane needs it to build per-app
// balancing data into each InstanceTable (policy, hash header, Maglev/ring tables) and as the
// shards need it for passive health (outlier ejection). Plain data; parsed in
// controlplane/config/load_balancing_config.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace ringside::snapshot {

enum class LbPolicy : uint8_t {
  kRoundRobin,    // roundRobin (default): per-app cursor; weighted when weights differ
  kRandom,        // random: uniform (or weighted) choice
  kLeastRequest,  // leastRequest: power of two choices on outstanding calls per instance
  kRingHash,      // ringHash: consistent hash ring over the hashHeader value
  kMaglev,        // maglev: Maglev lookup table over the hashHeader value
};

// The policy of one app id.
struct AppLoadBalancing {
  LbPolicy policy = LbPolicy::kRoundRobin;  // how an instance is chosen
  std::string hash_header;                  // lower-case header / metadata key hashed by ringHash
                                            // and maglev ("" = no key: those fall back to round robin)
  friend bool operator==(const AppLoadBalancing&, const AppLoadBalancing&) = default;
};

// Passive health: an instance failing consecutive calls is skipped for a growing interval.
struct OutlierDetection {
  uint32_t consecutive_failures = 3;            // failures in a row that eject (0 = never eject)
  int64_t base_ejection_ns = 1'000'000'000;     // first ejection; doubles with each ejection in a row
  int64_t max_ejection_ns = 30'000'000'000;     // cap of the ejection time
  friend bool operator==(const OutlierDetection&, const OutlierDetection&) = default;
};

struct LoadBalancing {
  AppLoadBalancing defaults;                                  // policy of apps not listed in `apps`
  absl::flat_hash_map<std::string, AppLoadBalancing> apps;   // app id -> its own policy
  OutlierDetection outlier;                                   // passive health, every app id

  // The policy of app_id.
  const AppLoadBalancing& for_app(const std::string& app_id) const {
    auto it = apps.find(app_id);
    return it == apps.end() ? defaults : it->second;
  }
  friend bool operator==(const LoadBalancing&, const LoadBalancing&) = default;
};

// Stable 64-bit hash (FNV-1a, then a murmur3 finaliser so nearby keys spread): the same in every
// process, so every caller sidecar maps a header value to the same instance. Never 0 (0 means
// "no key").
inline uint64_t stable_hash(std::string_view s, uint64_t seed = 0) {
  uint64_t h = 14695981039346656037ull ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h == 0 ? 1 : h;
}

// Mixes a 64-bit value (splitmix64 finaliser); stable across processes.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace ringside::snapshot
