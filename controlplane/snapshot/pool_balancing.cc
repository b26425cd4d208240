#include "controlplane/snapshot/pool_balancing.h"

#include <algorithm>
#include <queue>
#include <tuple>

namespace ringside::snapshot {
namespace {

constexpr uint32_t kPrimes[] = {251,  509,   1021,  2039,  4093,  8191,
                                16381, 32749, 65521};
constexpr uint64_t kMaxScheduleLength = 16384;  // weighted schedules longer than this are scaled down

// Weights as used by the tables: at least 1, scaled so their sum stays below `cap`.
std::vector<uint64_t> effective_weights(std::span<const Instance> instances, uint64_t cap) {
  std::vector<uint64_t> w(instances.size());
  uint64_t total = 0;
  for (size_t i = 0; i < instances.size(); ++i) {
    w[i] = std::max<uint32_t>(instances[i].weight, 1);
    total += w[i];
  }
  if (total > cap) {
    for (uint64_t& x : w) x = std::max<uint64_t>(1, x * cap / total);
  }
  return w;
}

// Stride scheduling (smooth weighted round robin): every instance appears `weight` times,
// spread out rather than in runs, so consecutive calls alternate between instances.
std::vector<uint16_t> build_schedule(std::span<const Instance> instances) {
  bool uniform = true;
  for (const Instance& i : instances) uniform = uniform && i.weight == instances[0].weight;
  if (uniform) return {};
  std::vector<uint64_t> w = effective_weights(instances, kMaxScheduleLength);
  uint64_t total = 0;
  for (uint64_t x : w) total += x;
  constexpr uint64_t kStride1 = uint64_t{1} << 40;
  using Entry = std::tuple<uint64_t, uint32_t>;  // (pass, index): lowest pass goes next
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  for (uint32_t i = 0; i < w.size(); ++i) heap.emplace(kStride1 / w[i] / 2, i);
  std::vector<uint16_t> out;
  out.reserve(total);
  while (out.size() < total) {
    auto [pass, i] = heap.top();
    heap.pop();
    out.push_back(static_cast<uint16_t>(i));
    heap.emplace(pass + kStride1 / w[i], i);
  }
  return out;
}

// Maglev (Eisenbud et al., NSDI'16) with weights as Envoy does it: an instance of weight w takes
// a slot in a round only when its accumulated share (w / max weight per round) is due.
std::vector<uint16_t> build_maglev(std::span<const Instance> instances) {
  const uint32_t m = maglev_table_size(instances.size());
  std::vector<uint64_t> w = effective_weights(instances, uint64_t{1} << 32);
  const double max_w = static_cast<double>(*std::max_element(w.begin(), w.end()));
  struct Build {
    uint64_t offset;  // first preferred slot
    uint64_t skip;    // step between preferred slots (coprime with the prime size)
    uint64_t next;    // preferences consumed
    double weight;    // normalised weight
    double target;    // share due before the next slot
  };
  std::vector<Build> b(instances.size());
  for (size_t i = 0; i < instances.size(); ++i) {
    const uint64_t id = instances[i].id;
    b[i] = {mix64(id) % m, mix64(id ^ 0x5851f42d4c957f2dull) % (m - 1) + 1, 0, w[i] / max_w, 0};
  }
  constexpr uint16_t kEmpty = 0xffff;
  std::vector<uint16_t> table(m, kEmpty);
  uint32_t filled = 0;
  for (uint64_t round = 1; filled < m; ++round) {
    for (size_t i = 0; i < b.size() && filled < m; ++i) {
      Build& e = b[i];
      if (static_cast<double>(round) * e.weight < e.target) continue;
      e.target += 1.0;
      uint64_t c = (e.offset + e.skip * e.next) % m;
      while (table[c] != kEmpty) {
        ++e.next;
        c = (e.offset + e.skip * e.next) % m;
      }
      table[c] = static_cast<uint16_t>(i);
      ++e.next;
      ++filled;
    }
  }
  return table;
}

// Ketama-style ring: 128 points per unit of weight, independent of the other instances, so an
// instance leaving removes only its own points (its keys move, nobody else's). Scaled down only
// when the ring would exceed 2^20 points.
std::vector<RingPoint> build_ring(std::span<const Instance> instances) {
  constexpr uint64_t kPointsPerWeight = 128;
  constexpr uint64_t kMaxPoints = uint64_t{1} << 20;
  std::vector<uint64_t> w = effective_weights(instances, kMaxPoints / kPointsPerWeight);
  auto points_of = [&](size_t i) { return std::max<uint64_t>(1, std::min(kPointsPerWeight * w[i], kMaxPoints)); };
  uint64_t total = 0;
  for (size_t i = 0; i < w.size(); ++i) total += points_of(i);
  std::vector<RingPoint> ring;
  ring.reserve(total);
  for (uint32_t i = 0; i < instances.size(); ++i) {
    const uint64_t points = points_of(i);
    for (uint64_t p = 0; p < points; ++p) ring.push_back({static_cast<uint32_t>(mix64(instances[i].id ^ mix64(p)) >> 32), i});
  }
  std::sort(ring.begin(), ring.end(), [](const RingPoint& a, const RingPoint& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.index < b.index;
  });
  return ring;
}

}  // namespace

uint32_t maglev_table_size(size_t n) {
  const uint64_t want = 100 * static_cast<uint64_t>(n);
  for (uint32_t p : kPrimes) {
    if (p >= want) return p;
  }
  return 65521;
}

int64_t PoolBalancing::hash_index(uint64_t key, uint32_t probe) const {
  if (!maglev.empty()) {
    const uint64_t k = probe == 0 ? key : mix64(key + probe);
    return maglev[k % maglev.size()];
  }
  if (!ring.empty()) {
    const uint32_t k32 = static_cast<uint32_t>(key >> 32);
    size_t pos = ring_buckets[k32 >> ring_bucket_shift];
    while (pos < ring.size() && ring[pos].hash < k32) ++pos;
    return ring[(pos + probe) % ring.size()].index;
  }
  return -1;
}

PoolBalancing build_pool_balancing(std::span<const Instance> instances, const AppLoadBalancing& config) {
  PoolBalancing out;
  out.config = config;
  if (instances.size() > kMaxBalancedInstances) instances = instances.first(kMaxBalancedInstances);
  if (instances.empty()) return out;
  out.schedule = build_schedule(instances);
  const bool hashed = !config.hash_header.empty();
  if (hashed && config.policy == LbPolicy::kMaglev) out.maglev = build_maglev(instances);
  if (hashed && config.policy == LbPolicy::kRingHash) {
    out.ring = build_ring(instances);
    // About one ring point per bucket.
    uint32_t bits = 1;
    while (bits < 24 && (size_t{1} << bits) < out.ring.size()) ++bits;
    out.ring_bucket_shift = 32 - bits;
    out.ring_buckets.resize(size_t{1} << bits);
    size_t pos = 0;
    for (size_t j = 0; j < out.ring_buckets.size(); ++j) {
      const uint64_t start = uint64_t{j} << out.ring_bucket_shift;
      while (pos < out.ring.size() && out.ring[pos].hash < start) ++pos;
      out.ring_buckets[j] = static_cast<uint32_t>(pos);
    }
  }
  return out;
}

}  // namespace ringside::snapshot
