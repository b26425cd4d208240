#include "tests/e2e/multicluster/cluster_lab.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

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

// Labs left behind by test processes that died without their destructor (SIGKILL at a CTest
// timeout): "mc<pid>-rt" whose pid is gone. Namespaces outlive processes, so nothing else
// removes them.
void RemoveStaleLabs() {
  FILE* p = popen("ip netns list 2>/dev/null", "r");
  if (p == nullptr) return;
  std::vector<std::string> stale;
  char line[256];
  while (fgets(line, sizeof(line), p) != nullptr) {
    unsigned pid = 0;
    char rest[8] = {};
    // Lines look like "mc1234-rt" or "mc1234-rt (id: 3)".
    if (std::sscanf(line, "mc%u-%2s", &pid, rest) == 2 && std::string(rest) == "rt" && pid > 0 &&
        kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      stale.push_back(absl::StrCat("mc", pid));
    }
  }
  pclose(p);
  for (const std::string& prefix : stale) (void)RunTopology("down " + prefix);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterLab>> ClusterLab::Create() {
  // Unique per process so parallel CTest runs (and a stale lab of a crashed run) do not clash.
  // pid_max is at most 2^22, so the prefix is the whole pid: at most 9 characters.
  std::string prefix = absl::StrCat("mc", getpid());
  RemoveStaleLabs();
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
