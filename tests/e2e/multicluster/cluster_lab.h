// The three-cluster network lab of the multi-cluster tests: six host namespaces (east, west and
// south, two hosts each) behind a router namespace with one bridge per cluster, built and torn
// down by examples/multicluster/topology.sh (the same topology the example runs). RFC 5737
// addresses only; nothing leaves the namespaces. The namespaces are deleted on destruction,
// also when a test fails half-way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ringside::multicluster_test {

// The clusters of the lab, in a fixed order.
inline const std::vector<std::string>& LabClusters() {
  static const std::vector<std::string> kClusters = {"east", "west", "south"};
  return kClusters;
}

class ClusterLab {
 public:
  // Creates every namespace, or fails naming the `ip` command that could not run (no root, no
  // netns support): tests must fail, not skip, without namespaces.
  static absl::StatusOr<std::unique_ptr<ClusterLab>> Create();
  ~ClusterLab();
  ClusterLab(const ClusterLab&) = delete;
  ClusterLab& operator=(const ClusterLab&) = delete;

  // Namespace of host `n` (1 or 2) of `cluster`, e.g. "mc1234-east1".
  std::string ns(const std::string& cluster, int n) const;
  // The router namespace (holds the three bridges).
  std::string router() const { return prefix_ + "-rt"; }
  // Address of host `n` of `cluster` on its cluster's subnet, e.g. "198.51.100.11".
  static std::string address(const std::string& cluster, int n);

 private:
  explicit ClusterLab(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string prefix_;  // unique per process, at most 10 characters (veth names)
};

}  // namespace ringside::multicluster_test
