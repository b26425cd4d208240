#pragma once
// request_hash_key: the consistent-hash key of a call, computed on the shard from the header
// (HTTP) or metadata entry (gRPC) the target app id's policy names (spec.ringside.loadBalancing
// hashHeader). 0 when the policy hashes nothing or the request lacks the header (the pick then
// falls back to round robin). One table lookup, no allocation; the hash is stable across
// processes so every caller sidecar sends a key to the same instance.
#include <cstdint>
#include <string_view>

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/runtime/shard_services.h"

namespace ringside::upstream {

// `find_header(name)` returns the value of the request header `name` (lower case; compare
// case-insensitively for HTTP/1) or an empty view when absent.
template <typename FindHeader>
uint64_t request_hash_key(const invoke::ShardServices* svc, std::string_view app_id, std::string_view ns,
                          FindHeader&& find_header) {
  const snapshot::InstanceTable* table = svc->snapshots->current();
  if (!table->any_hash_policy()) return 0;
  const snapshot::InstanceTable::Pool pool = table->find_pool(app_id, ns);
  if (pool.balancing == nullptr || pool.balancing->config.hash_header.empty()) return 0;
  std::string_view value = find_header(std::string_view(pool.balancing->config.hash_header));
  return value.empty() ? 0 : snapshot::stable_hash(value);
}

}  // namespace ringside::upstream
