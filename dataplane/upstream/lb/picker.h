#pragma once
// Picker: the load-balancer seam. Given the instances of the target app id (from the current
// InstanceTable) with the balancing data the control plane built for them, and what this call
// is (app id, namespace, a hash key, the instances it already failed on), a policy names the
// instance to call. Connections (dialling, back-off) are the caller's business
// (upstream/peer_choice.h); the picker only asks whether an address is in dial back-off.
// Policies keep their state keyed by app id or stable instance id, never by pointers into a
// table, so it survives table swaps.
//
// RoundRobin (round_robin.h) is the plain cursor; PolicyPicker (policy_picker.h) is the shard's
// picker: every policy, outlier ejection, least-request counts.
#include <cstdint>
#include <span>
#include <string_view>

#include "controlplane/snapshot/instance.h"
#include "controlplane/snapshot/load_balancing.h"
#include "controlplane/snapshot/pool_balancing.h"

namespace ringside::lb {

// Whether an address is in dial back-off (implemented over the shard's PeerPool).
class DialState {
 public:
  virtual ~DialState() = default;
  virtual bool backing_off(const snapshot::SocketAddress& addr) const = 0;
};

struct PickRequest {
  std::string_view app_id;             // the target app id
  std::string_view app_namespace;      // its namespace ("" = the caller's)
  uint64_t hash_key = 0;               // request hash for hash-based policies; 0 = none
  std::span<const uint64_t> exclude;   // instance ids this call already failed on
  const snapshot::PoolBalancing* balancing = nullptr;  // policy and tables of these instances
                                                       // (nullptr = unweighted round robin)
  const DialState* dial = nullptr;     // dial back-off of addresses (nullptr = none known)
  int64_t now_ns = 0;                  // CLOCK_MONOTONIC now (ejection deadlines)
  uint32_t cursor_salt = 0;            // separates per-app cursors of the subsets of one app id
                                       // (cluster strategies: 0 local, 1 external), so trying
                                       // one subset does not skew the other's rotation
};

// How a call to an instance ended, as passive health sees it.
enum class CallOutcome {
  kSuccess,    // the peer sidecar answered (whatever the app said)
  kFailure,    // connect failure, UNAVAILABLE or INTERNAL from the peer sidecar
  kAbandoned,  // cancelled or ended without a verdict on the peer's health
};

class Picker {
 public:
  virtual ~Picker() = default;
  // The instance to call, or nullptr when instances is empty or every one is excluded.
  virtual const snapshot::Instance* pick(const PickRequest& req,
                                         std::span<const snapshot::Instance> instances) = 0;
  // The instance to call among the usable ones only (not excluded, not ejected, not in dial
  // back-off), or nullptr when none is: no panic. Cluster strategies try one subset this way
  // before the next (upstream/peer_choice.cc).
  virtual const snapshot::Instance* pick_usable(const PickRequest& req, std::span<const snapshot::Instance> instances);
  // Whether the picker would call this instance now (not ejected). Dial back-off is separate.
  virtual bool healthy(uint64_t /*instance_id*/, int64_t /*now_ns*/) const { return true; }
  // A call to instance_id started / ended (least-request counts, outlier detection).
  virtual void on_call_start(uint64_t /*instance_id*/) {}
  virtual void on_call_end(uint64_t /*instance_id*/, CallOutcome /*outcome*/, int64_t /*now_ns*/,
                           const snapshot::OutlierDetection& /*settings*/) {}
};

inline bool excluded(const PickRequest& req, uint64_t id) {
  for (uint64_t x : req.exclude) {
    if (x == id) return true;
  }
  return false;
}

// Whether `instances` holds one the picker's first stage would take: not excluded, not ejected
// (picker.healthy), not in dial back-off. Cluster strategies ask it of a subset before
// choosing between subsets; a linear scan, no allocation.
inline bool any_usable(const Picker& picker, const PickRequest& req, std::span<const snapshot::Instance> instances) {
  for (const snapshot::Instance& inst : instances) {
    if (excluded(req, inst.id) || !picker.healthy(inst.id, req.now_ns)) continue;
    if (req.dial && req.dial->backing_off(inst.addr)) continue;
    return true;
  }
  return false;
}

inline const snapshot::Instance* Picker::pick_usable(const PickRequest& req,
                                                    std::span<const snapshot::Instance> instances) {
  return any_usable(*this, req, instances) ? pick(req, instances) : nullptr;
}

}  // namespace ringside::lb
