#pragma once
// Picker: the load-balancer seam. Given the instances of the target app id (from the current
// InstanceTable) and what this call is (app id, namespace, a hash key, the instances it already
// failed on), a policy names the instance to call. Picking has no side effect beyond the
// policy's own per-shard state: connections (dialling, back-off) are the caller's business
// (upstream/peer_choice.h). Policies keep their state keyed by app id or stable instance id,
// never by pointers into a table, so it survives table swaps.
//
// Round-robin (round_robin.h) is the only policy today; random, least-request and consistent
// hash plug in here.
#include <cstdint>
#include <span>
#include <string_view>

#include "controlplane/snapshot/instance.h"

namespace ringside::lb {

struct PickRequest {
  std::string_view app_id;             // the target app id
  std::string_view app_namespace;      // its namespace ("" = the caller's)
  uint64_t hash_key = 0;               // request hash for hash-based policies; 0 = none
  std::span<const uint64_t> exclude;   // instance ids this call already failed on
};

class Picker {
 public:
  virtual ~Picker() = default;
  // The instance to call, or nullptr when instances is empty or every one is excluded.
  virtual const snapshot::Instance* pick(const PickRequest& req,
                                         std::span<const snapshot::Instance> instances) = 0;
};

}  // namespace ringside::lb
