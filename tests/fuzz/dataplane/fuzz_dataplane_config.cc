// Fuzzes the spec.ringside.dataplane parser (any YAML text: an error or a valid section, never
// a crash), then merges what it accepted into default Options and checks the invariants the
// sidecar relies on: shard count and CPU list agree, poller CPUs fit the shards.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controlplane/config/dataplane_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ringside::config::DataplaneConfig dp;
  if (!ringside::config::parse_dataplane_yaml(text, &dp).ok()) return 0;
  ringside::config::Options o;
  if (!ringside::config::apply_dataplane_config(dp, &o).ok()) return 0;
  if (o.shards > 0 && static_cast<size_t>(o.shards) != o.cpus.size()) __builtin_trap();
  if (!o.sqpoll_cpus.empty() && o.shards > 0 &&
      o.sqpoll_cpus.size() != (o.sqpoll_shared ? 1u : static_cast<size_t>(o.shards)))
    __builtin_trap();
  return 0;
}
