// Fuzzes the spec.ringside.multiCluster parser (any YAML text): an error naming a path, or a
// configuration whose invariants hold (synchronizers imply a cluster; strategies are known).
#include <cstddef>
#include <cstdint>
#include <string>

#include "controlplane/config/multi_cluster_config.h"
#include "controlplane/snapshot/socket_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return 0;  // not YAML: the Configuration loader reports it before this parser runs
  }
  ringside::config::MultiCluster mc;
  absl::Status s = ringside::config::parse_multi_cluster(node, "spec.ringside.multiCluster", &mc);
  if (!s.ok()) {
    if (s.message().find("spec.ringside.multiCluster") == absl::string_view::npos) __builtin_trap();
    return 0;
  }
  if (mc.enabled() && mc.cluster.empty()) __builtin_trap();
  for (const std::string& a : mc.synchronizers) {
    std::string_view host;
    uint16_t port = 0;
    if (!ringside::snapshot::split_host_port(a, &host, &port) || port == 0) __builtin_trap();
  }
  (void)ringside::snapshot::to_string(mc.strategies.for_app("b"));
  return 0;
}
