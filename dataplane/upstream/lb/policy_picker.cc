#include "dataplane/upstream/lb/policy_picker.h"

namespace ringside::lb {
namespace {
using snapshot::LbPolicy;

void bump(shard::ShardCounters* c, std::atomic<uint64_t> shard::ShardCounters::*field) {
  if (c) shard::ShardCounters::bump(c->*field);
}
}  // namespace

bool PolicyPicker::passes(const PickRequest& req, const snapshot::Instance& inst, Stage stage) {
  const bool avoid_excluded = stage == Stage::kHealthy || stage == Stage::kPanic;
  if (avoid_excluded && excluded(req, inst.id)) return false;
  if (stage == Stage::kPanic || stage == Stage::kAny) return true;
  const bool unhealthy = ejector_.ejected(inst.id, req.now_ns) || (req.dial && req.dial->backing_off(inst.addr));
  if (unhealthy && stage == Stage::kHealthy) bump(counters_, &shard::ShardCounters::lb_skipped_instances);
  return !unhealthy;
}

int64_t PolicyPicker::first_passing_from(const PickRequest& req, std::span<const snapshot::Instance> instances,
                                         size_t start, Stage stage) {
  const size_t n = instances.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (passes(req, instances[i], stage)) return static_cast<int64_t>(i);
  }
  return -1;
}

size_t PolicyPicker::sample(const snapshot::PoolBalancing* b, size_t n) {
  if (b && !b->schedule.empty()) {
    const size_t i = b->schedule[random_.below(b->schedule.size())];
    if (i < n) return i;
  }
  return random_.below(n);
}

int64_t PolicyPicker::pick_in_stage(const PickRequest& req, std::span<const snapshot::Instance> instances,
                                    Stage stage) {
  const size_t n = instances.size();
  const snapshot::PoolBalancing* b = req.balancing;
  const LbPolicy policy = b ? b->config.policy : LbPolicy::kRoundRobin;
  switch (policy) {
    case LbPolicy::kRingHash:
    case LbPolicy::kMaglev: {
      const int64_t home = req.hash_key == 0 ? -1 : b->hash_index(req.hash_key);
      if (home < 0) break;  // no key (or no table): round robin
      if (static_cast<size_t>(home) < n && passes(req, instances[home], stage)) return home;
      // The key's next choices (consistent too), else the first usable after its own.
      const uint32_t probes = n < 16 ? static_cast<uint32_t>(2 * n) : 32;
      for (uint32_t p = 1; p < probes; ++p) {
        const int64_t i = b->hash_index(req.hash_key, p);
        if (i >= 0 && static_cast<size_t>(i) < n && passes(req, instances[i], stage)) return i;
      }
      return first_passing_from(req, instances, static_cast<size_t>(home) % n, stage);
    }
    case LbPolicy::kRandom: {
      return first_passing_from(req, instances, sample(b, n), stage);
    }
    case LbPolicy::kLeastRequest: {
      const size_t a = sample(b, n);
      size_t c = sample(b, n);
      if (c == a && n > 1 && (!b || b->schedule.empty())) c = (a + 1 + random_.below(n - 1)) % n;
      const bool a_ok = passes(req, instances[a], stage);
      const bool c_ok = c != a && passes(req, instances[c], stage);
      if (a_ok && c_ok) {
        // Fewer calls in flight per unit of weight wins; a tie keeps the first sample.
        const uint64_t load_a = uint64_t{outstanding_.of(instances[a].id)} * std::max<uint32_t>(instances[c].weight, 1);
        const uint64_t load_c = uint64_t{outstanding_.of(instances[c].id)} * std::max<uint32_t>(instances[a].weight, 1);
        return static_cast<int64_t>(load_c < load_a ? c : a);
      }
      if (a_ok) return static_cast<int64_t>(a);
      if (c_ok) return static_cast<int64_t>(c);
      return first_passing_from(req, instances, a, stage);
    }
    case LbPolicy::kRoundRobin:
      break;
  }
  const size_t cursor = round_robin_.pick(req.app_id, b && !b->schedule.empty() ? b->schedule.size() : n, req.cursor_salt);
  if (b && !b->schedule.empty()) {
    // Weighted: walk the schedule a little, then fall back to a plain scan.
    const size_t len = b->schedule.size();
    const size_t tries = len < 2 * n ? len : 2 * n;
    for (size_t k = 0; k < tries; ++k) {
      const size_t i = b->schedule[(cursor + k) % len];
      if (i < n && passes(req, instances[i], stage)) return static_cast<int64_t>(i);
    }
    return first_passing_from(req, instances, b->schedule[cursor % len] % n, stage);
  }
  return first_passing_from(req, instances, cursor, stage);
}

const snapshot::Instance* PolicyPicker::pick(const PickRequest& req, std::span<const snapshot::Instance> instances) {
  if (instances.empty()) return nullptr;
  for (Stage stage : {Stage::kHealthy, Stage::kHealthyAnyExcluded, Stage::kPanic, Stage::kAny}) {
    const bool same_as_previous = req.exclude.empty() && (stage == Stage::kHealthyAnyExcluded || stage == Stage::kAny);
    if (same_as_previous) continue;
    const int64_t i = pick_in_stage(req, instances, stage);
    if (i < 0) continue;
    if (stage == Stage::kPanic || stage == Stage::kAny) bump(counters_, &shard::ShardCounters::lb_panic_picks);
    return &instances[static_cast<size_t>(i)];
  }
  return nullptr;
}

const snapshot::Instance* PolicyPicker::pick_usable(const PickRequest& req,
                                                    std::span<const snapshot::Instance> instances) {
  if (instances.empty()) return nullptr;
  const int64_t i = pick_in_stage(req, instances, Stage::kHealthy);
  return i < 0 ? nullptr : &instances[static_cast<size_t>(i)];
}

void PolicyPicker::on_call_end(uint64_t instance_id, CallOutcome outcome, int64_t now_ns,
                               const snapshot::OutlierDetection& settings) {
  outstanding_.ended(instance_id);
  if (outcome == CallOutcome::kSuccess) {
    ejector_.record_success(instance_id);
  } else if (outcome == CallOutcome::kFailure) {
    if (ejector_.record_failure(instance_id, now_ns, settings)) bump(counters_, &shard::ShardCounters::lb_ejections);
  }
}

}  // namespace ringside::lb
