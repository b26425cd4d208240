// Fuzzes the spec.ringside.loadBalancing parser (any YAML text: an error or a valid config,
// never a crash) and builds a small table with whatever it accepted, so the per-app tables
// (weighted schedule, Maglev, ring) and a hash lookup run on every accepted configuration.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controlplane/config/load_balancing_config.h"
#include "controlplane/snapshot/instance_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ringside::snapshot::LoadBalancing lb;
  if (!ringside::config::parse_load_balancing_yaml(text, &lb).ok()) return 0;
  std::vector<ringside::snapshot::Instance> instances;
  for (int i = 0; i < 5; ++i) {
    auto inst = ringside::snapshot::make_instance(i < 3 ? "b" : "c", "", "10.0.0." + std::to_string(i + 1) + ":1",
                                                  "", static_cast<uint32_t>(i + 1));
    if (inst.ok()) instances.push_back(*inst);
  }
  auto table = ringside::snapshot::InstanceTable::build(std::move(instances), false, 1, {}, &lb);
  for (const char* app : {"b", "c"}) {
    auto pool = table->find_pool(app, "");
    if (pool.balancing == nullptr) __builtin_trap();
    const int64_t i = pool.balancing->hash_index(ringside::snapshot::stable_hash(text), 3);
    if (i >= static_cast<int64_t>(pool.instances.size())) __builtin_trap();
  }
  return 0;
}
