// InstanceTable: the immutable app-id -> instances map the control plane publishes and every
// shard reads concurrently without locks. Built once, never modified, freed by the
// SnapshotRegistry after every shard has passed a quiescent point.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "controlplane/snapshot/cluster_strategy.h"
#include "controlplane/snapshot/instance.h"
#include "controlplane/snapshot/load_balancing.h"
#include "controlplane/snapshot/pool_balancing.h"

namespace ringside::snapshot {

class InstanceTable {
 public:
  // Instances for an app id. The namespace is ignored when empty or when the table is not
  // namespace-aware (sqlite is not). Empty span when unknown. No allocation.
  std::span<const Instance> find(std::string_view app_id, std::string_view app_namespace) const;

  // Some instances of a pool with balancing data built for exactly them (a Maglev or ring-hash
  // index, a weighted schedule index is an index into `instances`, so each subset has its own).
  struct Subset {
    std::span<const Instance> instances;        // the subset, contiguous
    const PoolBalancing* balancing = nullptr;   // policy and tables for exactly these (nullptr when empty)
  };
  // The instances of an app id with the balancing data the control plane built for them
  // (balancing is nullptr when there are no instances), and the same split by cluster class:
  // `instances` holds the local ones first, then the external ones (see local_instance()).
  // One lookup, no allocation.
  struct Pool {
    std::span<const Instance> instances;        // as find(): local, then external
    const PoolBalancing* balancing = nullptr;   // policy and tables for exactly these instances
    Subset local;                               // the local prefix of `instances`
    Subset external;                            // the external suffix of `instances`
  };
  Pool find_pool(std::string_view app_id, std::string_view app_namespace) const;

  // Passive-health settings the shards apply (spec.ringside.loadBalancing.outlierDetection).
  const OutlierDetection& outlier_detection() const { return load_balancing_.outlier; }
  // Own cluster and cluster strategies (spec.ringside.multiCluster).
  const ClusterSettings& clusters() const { return clusters_; }
  // Whether any app id uses a hash policy with a header (callers skip extracting a key otherwise).
  bool any_hash_policy() const { return any_hash_policy_; }

  // Whether the table has an answer for app id/namespace (same matching as find()): instances,
  // or a published "looked up, none found" entry. A call to an app id the table has no answer
  // for parks while the control plane looks it up. No allocation.
  bool answered(std::string_view app_id, std::string_view app_namespace) const;

  // The instance with this stable id, or nullptr. No allocation.
  const Instance* find_by_id(uint64_t id) const;

  // Whether the instance counts as local for cluster strategies: every instance when the table
  // has no own cluster (single cluster), else ClusterSettings::is_local.
  bool local_instance(const Instance& i) const {
    return clusters_.local_cluster.empty() || clusters_.is_local(i.cluster);
  }

  // Every instance, sorted by (app id, namespace, local before external, cluster, address).
  std::span<const Instance> all() const { return instances_; }

  uint64_t version() const { return version_; }      // publisher's counter; 0 = the initial empty table
  size_t size() const { return instances_.size(); }  // number of instances
  bool namespace_aware() const { return namespace_aware_; }

  // Same instances (all fields) and namespace awareness; the version is not compared.
  bool same_contents(const InstanceTable& other) const;

  // (app id, namespace) looked up with no instance found.
  struct AbsentApp {
    std::string app_id;         // app id
    std::string app_namespace;  // namespace ("" = any)
    friend bool operator==(const AbsentApp&, const AbsentApp&) = default;
  };

  // Sorts, drops duplicate ids (first wins) and indexes the instances; `absent` keys that have
  // no instance are indexed as answered-empty.
  static std::unique_ptr<InstanceTable> build(std::vector<Instance> instances, bool namespace_aware,
                                              uint64_t version, std::vector<AbsentApp> absent = {},
                                              const LoadBalancing* load_balancing = nullptr,
                                              const ClusterSettings* clusters = nullptr);

  InstanceTable(const InstanceTable&) = delete;
  InstanceTable& operator=(const InstanceTable&) = delete;

 private:
  InstanceTable() = default;

  // Half-open index range into instances_ (or regrouped_), local instances before `split`.
  struct Range {
    uint32_t begin;  // first index
    uint32_t end;    // one past the last index
    uint32_t split = 0;                          // first external index (== end when none)
    uint32_t balancing = kNoBalancing;           // index into balancing_: the whole range
    uint32_t local_balancing = kNoBalancing;     // index into balancing_: [begin, split)
    uint32_t external_balancing = kNoBalancing;  // index into balancing_: [split, end)
    bool regrouped = false;  // indices into regrouped_: an app-wide range over several
                             // namespaces, copied so its local instances are contiguous
  };
  static constexpr uint32_t kNoBalancing = 0xffffffff;
  // (app id, namespace) key; views point into instances_, which never changes after build.
  struct AppNamespaceKey {
    std::string_view app_id;         // app id
    std::string_view app_namespace;  // namespace
    friend bool operator==(const AppNamespaceKey&, const AppNamespaceKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const AppNamespaceKey& k) {
      return H::combine(std::move(h), k.app_id, k.app_namespace);
    }
  };

  // Sets every range's split; copies app-wide ranges whose local instances are not contiguous
  // (several namespaces, each local-then-external) into regrouped_.
  void index_cluster_split();
  // Builds balancing_ for every non-empty range (the ranges no longer change).
  void index_balancing();
  std::span<const Instance> span_of(const Range& r, uint32_t begin, uint32_t end) const;
  const Range* range_of(std::string_view app_id, std::string_view app_namespace) const;

  std::vector<Instance> instances_;                           // sorted, immutable after build
  std::vector<Instance> regrouped_;                           // copies for regrouped ranges, immutable after build
  std::vector<AbsentApp> absent_;                             // answered-empty keys, immutable after build
  absl::flat_hash_map<std::string_view, Range> by_app_;       // app id -> all its instances
  absl::flat_hash_map<AppNamespaceKey, Range> by_app_ns_;     // (app id, namespace) -> instances
  absl::flat_hash_map<uint64_t, uint32_t> by_id_;             // stable id -> index
  std::vector<PoolBalancing> balancing_;                      // per range, immutable after build
  LoadBalancing load_balancing_;                              // the configuration it was built with
  ClusterSettings clusters_;                                  // own cluster and strategies
  bool any_hash_policy_ = false;                              // see any_hash_policy()
  uint64_t version_ = 0;                                      // see version()
  bool namespace_aware_ = false;                              // see namespace_aware()
};

}  // namespace ringside::snapshot
