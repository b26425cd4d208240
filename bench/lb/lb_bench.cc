// Load-balancing costs:
//   BM_LookupAndPick/<policy>: what choose_peer does per call on a shard — find the app id's
//     pool in the current InstanceTable, then PolicyPicker::pick over its instances — with
//     10,000 app ids x 10 instances, calls spread over every app id (hash policies also hash a
//     header value, as the ingress does). ns per call; also with calls over only 16 app ids.
//   BM_BuildAndPublish/<policy>: the control plane building a table of 100,000 instances
//     (10,000 app ids x 10) with that policy's per-app tables, publishing it and reclaiming the
//     previous one. ms per table.
//   BM_ClusterStrategyPick/<case>: the same lookup + pick through the cluster-strategy filter
//     (pick_in_clusters, what choose_peer runs) on a table whose app ids have 5 local ("east")
//     and 5 external ("west") instances; cases: single cluster (no filter: the baseline),
//     local-first, external-first, local-only, external-only, and local-first with every local
//     instance ejected (the filter scans the local subset, then picks external). Round robin,
//     calls over 16 app ids; median of 3 repetitions. The filter's cost is case − baseline.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/upstream/lb/policy_picker.h"
#include "dataplane/upstream/peer_choice.h"

namespace ringside {
namespace {

using snapshot::LbPolicy;

constexpr int kApps = 10'000;
constexpr int kPerApp = 10;

std::vector<snapshot::Instance> make_instances() {
  std::vector<snapshot::Instance> out;
  out.reserve(kApps * kPerApp);
  for (int a = 0; a < kApps; ++a) {
    const std::string app = "app-" + std::to_string(a);
    for (int i = 0; i < kPerApp; ++i) {
      const std::string addr = "10." + std::to_string(a / 256) + "." + std::to_string(a % 256) + "." +
                               std::to_string(i + 1) + ":50002";
      out.push_back(*snapshot::make_instance(app, "default", addr));
    }
  }
  return out;
}

snapshot::LoadBalancing config_for(LbPolicy p) {
  snapshot::LoadBalancing lb;
  lb.defaults.policy = p;
  if (p == LbPolicy::kMaglev || p == LbPolicy::kRingHash) lb.defaults.hash_header = "x-user";
  return lb;
}

const char* name_of(LbPolicy p) {
  switch (p) {
    case LbPolicy::kRoundRobin: return "roundRobin";
    case LbPolicy::kRandom: return "random";
    case LbPolicy::kLeastRequest: return "leastRequest";
    case LbPolicy::kRingHash: return "ringHash";
    case LbPolicy::kMaglev: return "maglev";
  }
  return "?";
}

void BM_LookupAndPick(benchmark::State& state) {
  const auto policy = static_cast<LbPolicy>(state.range(0));
  const size_t hot_apps = static_cast<size_t>(state.range(1));  // app ids the calls cycle over
  state.SetLabel(name_of(policy));
  const snapshot::LoadBalancing lb = config_for(policy);
  auto table = snapshot::InstanceTable::build(make_instances(), false, 1, {}, &lb);
  std::vector<std::string> apps, users;
  for (int a = 0; a < kApps; ++a) apps.push_back("app-" + std::to_string(a));
  for (int u = 0; u < 4096; ++u) users.push_back("user-" + std::to_string(u));
  const bool hashed = !lb.defaults.hash_header.empty();
  lb::PolicyPicker picker(7);
  // Warm-up: one cursor per app id, one outstanding slot per instance (as a shard after its first calls).
  for (const auto& inst : table->all()) picker.on_call_start(inst.id);
  for (const auto& inst : table->all()) picker.on_call_end(inst.id, lb::CallOutcome::kSuccess, 0, {});
  size_t k = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    // Strided over app ids so consecutive calls touch different cache lines, as real traffic does.
    const std::string& app = apps[(k * 7919) % hot_apps];
    const snapshot::InstanceTable::Pool pool = table->find_pool(app, "");
    lb::PickRequest req{.app_id = app, .app_namespace = "", .exclude = {}, .balancing = pool.balancing, .dial = nullptr, .now_ns = 1};
    if (hashed) req.hash_key = snapshot::stable_hash(users[k & 4095]);
    const snapshot::Instance* inst = picker.pick(req, pool.instances);
    sink += inst->id;
    ++k;
  }
  benchmark::DoNotOptimize(sink);
}
// Second argument: calls spread over all 10,000 app ids (cache-cold tables, as with many
// targets) or over 16 (cache-warm: the per-call compute).
BENCHMARK(BM_LookupAndPick)->ArgsProduct({{0, 1, 2, 3, 4}, {kApps, 16}});

// Cases of BM_ClusterStrategyPick.
enum class ClusterCase { kSingleCluster, kLocalFirst, kExternalFirst, kLocalOnly, kExternalOnly, kLocalFirstLocalEjected };

const char* name_of(ClusterCase c) {
  switch (c) {
    case ClusterCase::kSingleCluster: return "single-cluster (baseline)";
    case ClusterCase::kLocalFirst: return "local-first";
    case ClusterCase::kExternalFirst: return "external-first";
    case ClusterCase::kLocalOnly: return "local-only";
    case ClusterCase::kExternalOnly: return "external-only";
    case ClusterCase::kLocalFirstLocalEjected: return "local-first, local ejected";
  }
  return "?";
}

void BM_ClusterStrategyPick(benchmark::State& state) {
  const auto c = static_cast<ClusterCase>(state.range(0));
  const size_t hot_apps = static_cast<size_t>(state.range(1));
  state.SetLabel(name_of(c));
  std::vector<snapshot::Instance> instances;
  instances.reserve(kApps * kPerApp);
  for (int a = 0; a < kApps; ++a) {
    const std::string app = "app-" + std::to_string(a);
    for (int i = 0; i < kPerApp; ++i) {
      const std::string addr = "10." + std::to_string(a / 256) + "." + std::to_string(a % 256) + "." +
                               std::to_string(i + 1) + ":50002";
      instances.push_back(*snapshot::make_instance(app, "default", addr, i % 2 == 0 ? "east" : "west"));
    }
  }
  snapshot::ClusterSettings clusters;
  if (c != ClusterCase::kSingleCluster) clusters.local_cluster = "east";
  const snapshot::ClusterStrategy strategy =
      c == ClusterCase::kExternalFirst  ? snapshot::ClusterStrategy::kExternalFirst
      : c == ClusterCase::kLocalOnly    ? snapshot::ClusterStrategy::kLocalOnly
      : c == ClusterCase::kExternalOnly ? snapshot::ClusterStrategy::kExternalOnly
                                        : snapshot::ClusterStrategy::kLocalFirst;
  const snapshot::LoadBalancing lb = config_for(LbPolicy::kRoundRobin);
  auto table = snapshot::InstanceTable::build(std::move(instances), false, 1, {}, &lb, &clusters);
  std::vector<std::string> apps;
  for (int a = 0; a < kApps; ++a) apps.push_back("app-" + std::to_string(a));
  lb::PolicyPicker picker(7);
  const snapshot::OutlierDetection eject_at_once{.consecutive_failures = 1};
  for (const auto& inst : table->all()) {
    picker.on_call_start(inst.id);
    const bool fail = c == ClusterCase::kLocalFirstLocalEjected && inst.cluster == "east";
    picker.on_call_end(inst.id, fail ? lb::CallOutcome::kFailure : lb::CallOutcome::kSuccess, 0, eject_at_once);
  }
  size_t k = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    const std::string& app = apps[(k * 7919) % hot_apps];
    const snapshot::InstanceTable::Pool pool = table->find_pool(app, "");
    const lb::PickRequest req{.app_id = app, .app_namespace = "", .hash_key = 0, .exclude = {},
                              .balancing = pool.balancing, .dial = nullptr, .now_ns = 1};
    const snapshot::Instance* inst = c == ClusterCase::kSingleCluster
                                         ? picker.pick(req, pool.instances)
                                         : invoke::pick_in_clusters(&picker, req, pool, strategy);
    sink += inst->id;
    ++k;
  }
  benchmark::DoNotOptimize(sink);
}
BENCHMARK(BM_ClusterStrategyPick)->ArgsProduct({{0, 1, 2, 3, 4, 5}, {16}})->Repetitions(3)->ReportAggregatesOnly(true);

void BM_BuildAndPublish(benchmark::State& state) {
  const auto policy = static_cast<LbPolicy>(state.range(0));
  state.SetLabel(name_of(policy));
  const snapshot::LoadBalancing lb = config_for(policy);
  const std::vector<snapshot::Instance> instances = make_instances();
  snapshot::SnapshotRegistry registry(1);
  uint64_t version = 1;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<snapshot::Instance> copy = instances;  // the control plane hands build() its own vector
    state.ResumeTiming();
    registry.publish(snapshot::InstanceTable::build(std::move(copy), false, version++, {}, &lb));
    registry.reclaim();
  }
  state.counters["instances"] = static_cast<double>(instances.size());
}
BENCHMARK(BM_BuildAndPublish)->Arg(static_cast<int>(LbPolicy::kRoundRobin))->Arg(static_cast<int>(LbPolicy::kMaglev))
    ->Arg(static_cast<int>(LbPolicy::kRingHash))->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace ringside
