#pragma once
// PolicyPicker: the shard's picker. It applies the app id's policy from the table
// (snapshot::PoolBalancing: roundRobin, random, leastRequest, ringHash, maglev; weighted where
// the control plane built a schedule) over the instances that are usable now, in stages:
//   1. not excluded (this call failed there), not ejected, not in dial back-off;
//   2. the same but allowing excluded ones (a retry back to a healthy instance it failed on);
//   3. panic: every instance is ejected or backing off, so health is ignored (excluded avoided);
//   4. anything.
// It also keeps this shard's outstanding calls per instance (least request) and the outlier
// ejector. All state is keyed by app id hash or stable instance id; after warm-up (one slot
// per app id / instance) picking allocates nothing.
#include <cstdint>

#include "dataplane/runtime/shard_counters.h"
#include "dataplane/upstream/lb/fast_random.h"
#include "dataplane/upstream/lb/outlier_ejector.h"
#include "dataplane/upstream/lb/outstanding_calls.h"
#include "dataplane/upstream/lb/picker.h"
#include "dataplane/upstream/lb/round_robin.h"

namespace ringside::lb {

class PolicyPicker final : public Picker {
 public:
  // counters: where ejections, panic picks and skipped instances are counted (may be nullptr).
  explicit PolicyPicker(uint64_t seed, shard::ShardCounters* counters = nullptr)
      : random_(seed), counters_(counters) {}

  void set_counters(shard::ShardCounters* counters) { counters_ = counters; }

  const snapshot::Instance* pick(const PickRequest& req, std::span<const snapshot::Instance> instances) override;
  // Stage 1 only (one pass: no separate usability scan).
  const snapshot::Instance* pick_usable(const PickRequest& req, std::span<const snapshot::Instance> instances) override;
  bool healthy(uint64_t instance_id, int64_t now_ns) const override { return !ejector_.ejected(instance_id, now_ns); }
  void on_call_start(uint64_t instance_id) override { outstanding_.started(instance_id); }
  void on_call_end(uint64_t instance_id, CallOutcome outcome, int64_t now_ns,
                   const snapshot::OutlierDetection& settings) override;

  const OutstandingCalls& outstanding() const { return outstanding_; }
  const OutlierEjector& ejector() const { return ejector_; }

 private:
  enum class Stage { kHealthy, kHealthyAnyExcluded, kPanic, kAny };
  // The policy's choice among instances passing `stage`'s filter, or -1.
  int64_t pick_in_stage(const PickRequest& req, std::span<const snapshot::Instance> instances, Stage stage);
  bool passes(const PickRequest& req, const snapshot::Instance& inst, Stage stage);
  int64_t first_passing_from(const PickRequest& req, std::span<const snapshot::Instance> instances, size_t start,
                             Stage stage);
  // A weighted (schedule) or uniform random index.
  size_t sample(const snapshot::PoolBalancing* b, size_t n);

  RoundRobin round_robin_;        // per-app cursors
  FastRandom random_;             // random and P2C samples
  OutstandingCalls outstanding_;  // least-request counts
  OutlierEjector ejector_;        // passive health
  shard::ShardCounters* counters_;  // lb_* counters (nullable)
};

}  // namespace ringside::lb
