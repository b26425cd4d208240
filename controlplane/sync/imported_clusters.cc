#include "controlplane/sync/imported_clusters.h"

namespace ringside::sync {

uint64_t ImportedClusters::open_stream(const std::string& cluster, TimePoint now) {
  Imported& c = by_cluster_[cluster];
  c.stream = next_stream_++;
  c.connected = true;
  c.last_heard = now;
  return c.stream;
}

bool ImportedClusters::apply(const std::string& cluster, uint64_t stream, const v1::ExportRequest& request,
                             TimePoint now, bool* changed) {
  *changed = false;
  auto it = by_cluster_.find(cluster);
  if (it == by_cluster_.end() || it->second.stream != stream) return false;
  Imported& c = it->second;
  c.last_heard = now;
  if (request.heartbeat_only()) return true;
  Table next;
  for (const v1::Instance& in : request.instances()) {
    v1::Instance i = in;
    // The exporter's word on which cluster it speaks for is the stream's, not each entry's.
    i.set_cluster(cluster);
    next[instance_key(i)] = std::move(i);
  }
  *changed = !compute_delta(c.table, next).empty();
  c.table = std::move(next);
  c.version = request.version();
  return true;
}

void ImportedClusters::close_stream(const std::string& cluster, uint64_t stream, TimePoint now) {
  auto it = by_cluster_.find(cluster);
  if (it == by_cluster_.end() || it->second.stream != stream) return;
  it->second.connected = false;
  it->second.last_heard = now;
}

bool ImportedClusters::expire(TimePoint now) {
  bool removed = false;
  for (auto it = by_cluster_.begin(); it != by_cluster_.end();) {
    // An open stream whose heartbeats stopped expires too: a hung peer is a dead peer.
    if (now - it->second.last_heard > ttl_) {
      removed = removed || !it->second.table.empty();
      if (it->second.connected) {
        // Keep the entry (the stream may still speak and refill it); drop its instances.
        it->second.table.clear();
        ++it;
      } else {
        it = by_cluster_.erase(it);
      }
    } else {
      ++it;
    }
  }
  return removed;
}

Table ImportedClusters::merged() const {
  Table all;
  for (const auto& [name, c] : by_cluster_) all.insert(c.table.begin(), c.table.end());
  return all;
}

std::vector<ImportedClusters::ClusterView> ImportedClusters::clusters() const {
  std::vector<ClusterView> out;
  for (const auto& [name, c] : by_cluster_) out.push_back({name, c.table.size(), c.connected});
  return out;
}

size_t ImportedClusters::connected_count() const {
  size_t n = 0;
  for (const auto& [name, c] : by_cluster_) n += c.connected ? 1 : 0;
  return n;
}

}  // namespace ringside::sync
