// The tables peer synchronizers exported to us, one per peer cluster, with the export TTL:
// a cluster's instances stay until nothing was heard from it (message or stream end) for `ttl`,
// so a restarting peer does not empty every other cluster. Not thread-safe (SyncState locks);
// time is passed in, so tests drive the TTL with their own clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controlplane/sync/table_delta.h"

namespace ringside::sync {

using TimePoint = std::chrono::steady_clock::time_point;

class ImportedClusters {
 public:
  explicit ImportedClusters(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  // A new Export stream from `cluster`: it replaces any older one (whose later messages and end
  // are then ignored). Returns the stream's id.
  uint64_t open_stream(const std::string& cluster, TimePoint now);

  // One ExportRequest on stream `stream`. Returns false when that stream was replaced (the
  // caller ends it). *changed = whether the cluster's instances changed.
  bool apply(const std::string& cluster, uint64_t stream, const v1::ExportRequest& request, TimePoint now,
             bool* changed);

  // The stream ended: its instances stay for the TTL from now.
  void close_stream(const std::string& cluster, uint64_t stream, TimePoint now);

  // Drops clusters not heard from for longer than the TTL. Returns whether any instance went.
  bool expire(TimePoint now);

  // The union of every cluster's instances.
  Table merged() const;

  struct ClusterView {
    std::string name;      // peer cluster
    size_t instances = 0;  // its instances now
    bool connected = false;  // an Export stream is open
  };
  std::vector<ClusterView> clusters() const;
  size_t connected_count() const;

 private:
  struct Imported {
    Table table;                // the cluster's last full table (cluster field set by us)
    uint64_t stream = 0;        // id of the stream that owns the cluster
    bool connected = false;     // that stream is open
    TimePoint last_heard{};     // last message or stream end: the TTL counts from here
    uint64_t version = 0;       // exporter's version of `table`
  };

  std::chrono::milliseconds ttl_;          // export TTL
  uint64_t next_stream_ = 1;               // stream ids, never reused
  std::map<std::string, Imported> by_cluster_;  // peer cluster -> its table
};

}  // namespace ringside::sync
