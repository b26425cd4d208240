#include "tests/e2e/multicluster/cluster_lab.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace ringside::multicluster_test {
namespace {

// examples/multicluster/topology.sh: one definition of the topology for the tests and the demo.
std::string TopologyScript() { return std::string(RINGSIDE_MULTICLUSTER_EXAMPLE_DIR) + "/topology.sh"; }

absl::Status RunTopology(const std::string& args) {
  const std::string cmd = absl::StrCat("bash ", TopologyScript(), " ", args, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return absl::InternalError(absl::StrCat("popen failed: ", cmd));
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = pclose(p);
  if (rc != 0) {
    return absl::FailedPreconditionError(absl::StrCat(cmd, " failed (", rc, "): ", out,
                                                      " (the multi-cluster tests need root and network namespaces)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterLab>> ClusterLab::Create() {
  // Unique per process so parallel CTest runs (and a stale lab of a crashed run) do not clash.
  std::string prefix = absl::StrCat("mc", getpid() % 10000000);
  (void)RunTopology("down " + prefix);  // a crashed earlier process with our pid
  if (absl::Status s = RunTopology("up " + prefix); !s.ok()) return s;
  return std::unique_ptr<ClusterLab>(new ClusterLab(prefix));
}

ClusterLab::~ClusterLab() { (void)RunTopology("down " + prefix_); }

std::string ClusterLab::ns(const std::string& cluster, int n) const {
  return absl::StrCat(prefix_, "-", cluster, n);
}

std::string ClusterLab::address(const std::string& cluster, int n) {
  if (cluster == "east") return absl::StrCat("198.51.100.", 10 + n);
  if (cluster == "west") return absl::StrCat("198.51.100.", 74 + n);
  return absl::StrCat("203.0.113.", 10 + n);
}

}  // namespace ringside::multicluster_test
