#include "controlplane/snapshot/instance_table.h"

#include <algorithm>
#include <tuple>

namespace ringside::snapshot {

const InstanceTable::Range* InstanceTable::range_of(std::string_view app_id, std::string_view app_namespace) const {
  const Range* r = nullptr;
  if (app_namespace.empty() || !namespace_aware_) {
    auto it = by_app_.find(app_id);
    if (it != by_app_.end()) r = &it->second;
  } else {
    auto it = by_app_ns_.find(AppNamespaceKey{app_id, app_namespace});
    if (it != by_app_ns_.end()) r = &it->second;
  }
  return r;
}

bool InstanceTable::answered(std::string_view app_id, std::string_view app_namespace) const {
  return range_of(app_id, app_namespace) != nullptr;
}

std::span<const Instance> InstanceTable::span_of(const Range& r, uint32_t begin, uint32_t end) const {
  const Instance* base = r.regrouped ? regrouped_.data() : instances_.data();
  return std::span<const Instance>(base + begin, end - begin);
}

std::span<const Instance> InstanceTable::find(std::string_view app_id, std::string_view app_namespace) const {
  const Range* r = range_of(app_id, app_namespace);
  if (r == nullptr) return {};
  return span_of(*r, r->begin, r->end);
}

InstanceTable::Pool InstanceTable::find_pool(std::string_view app_id, std::string_view app_namespace) const {
  const Range* r = range_of(app_id, app_namespace);
  if (r == nullptr || r->balancing == kNoBalancing) return {};
  auto balancing = [&](uint32_t i) { return i == kNoBalancing ? nullptr : &balancing_[i]; };
  Pool p;
  p.instances = span_of(*r, r->begin, r->end);
  p.balancing = &balancing_[r->balancing];
  p.local = Subset{span_of(*r, r->begin, r->split), balancing(r->local_balancing)};
  p.external = Subset{span_of(*r, r->split, r->end), balancing(r->external_balancing)};
  return p;
}

const Instance* InstanceTable::find_by_id(uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &instances_[it->second];
}

bool InstanceTable::same_contents(const InstanceTable& other) const {
  return namespace_aware_ == other.namespace_aware_ && instances_ == other.instances_ && absent_ == other.absent_ &&
         load_balancing_ == other.load_balancing_ && clusters_ == other.clusters_;
}

std::unique_ptr<InstanceTable> InstanceTable::build(std::vector<Instance> instances, bool namespace_aware,
                                                    uint64_t version, std::vector<AbsentApp> absent,
                                                    const LoadBalancing* load_balancing,
                                                    const ClusterSettings* clusters) {
  std::unique_ptr<InstanceTable> t(new InstanceTable());
  if (clusters != nullptr) t->clusters_ = *clusters;
  // Local before external within each (app id, namespace): the subsets cluster strategies pick
  // from are then contiguous.
  const InstanceTable& table = *t;
  auto key = [&](const Instance& i) {
    return std::make_tuple(std::string_view(i.app_id), std::string_view(i.app_namespace), !table.local_instance(i),
                           std::string_view(i.cluster), std::string_view(i.address_text), i.id);
  };
  std::sort(instances.begin(), instances.end(), [&](const Instance& a, const Instance& b) { return key(a) < key(b); });

  t->version_ = version;
  t->namespace_aware_ = namespace_aware;
  t->instances_.reserve(instances.size());
  for (Instance& i : instances) {
    if (t->by_id_.contains(i.id)) continue;
    t->by_id_.emplace(i.id, static_cast<uint32_t>(t->instances_.size()));
    t->instances_.push_back(std::move(i));
  }
  // Index only now: the vector no longer moves, so views into its strings stay valid.
  const std::vector<Instance>& v = t->instances_;
  for (uint32_t i = 0; i < v.size(); ++i) {
    Range& app = t->by_app_.try_emplace(v[i].app_id, Range{i, i}).first->second;
    app.end = i + 1;
    Range& app_ns = t->by_app_ns_.try_emplace(AppNamespaceKey{v[i].app_id, v[i].app_namespace}, Range{i, i}).first->second;
    app_ns.end = i + 1;
  }
  if (load_balancing != nullptr) t->load_balancing_ = *load_balancing;
  t->index_cluster_split();
  t->index_balancing();
  // Answered-empty keys the instances do not cover, sorted so equal contents compare equal.
  std::sort(absent.begin(), absent.end(), [](const AbsentApp& a, const AbsentApp& b) {
    return std::tie(a.app_id, a.app_namespace) < std::tie(b.app_id, b.app_namespace);
  });
  absent.erase(std::unique(absent.begin(), absent.end()), absent.end());
  for (AbsentApp& a : absent) {
    const bool covered = a.app_namespace.empty() || !namespace_aware
                             ? t->by_app_.contains(a.app_id)
                             : t->by_app_ns_.contains(AppNamespaceKey{a.app_id, a.app_namespace});
    if (!covered) t->absent_.push_back(std::move(a));
  }
  for (const AbsentApp& a : t->absent_) {
    if (a.app_namespace.empty() || !namespace_aware) {
      t->by_app_.try_emplace(a.app_id, Range{0, 0});
    } else {
      t->by_app_ns_.try_emplace(AppNamespaceKey{a.app_id, a.app_namespace}, Range{0, 0});
    }
  }
  return t;
}

void InstanceTable::index_cluster_split() {
  auto first_external = [&](uint32_t begin, uint32_t end) {
    uint32_t i = begin;
    while (i < end && local_instance(instances_[i])) ++i;
    return i;
  };
  for (auto& [key, r] : by_app_ns_) r.split = first_external(r.begin, r.end);  // sorted: always contiguous
  for (auto& [app, r] : by_app_) {
    r.split = first_external(r.begin, r.end);
    bool contiguous = true;
    for (uint32_t i = r.split; i < r.end && contiguous; ++i) contiguous = !local_instance(instances_[i]);
    if (contiguous) continue;
    // Several namespaces, each local-then-external: a copy with all the local ones first.
    const auto begin = static_cast<uint32_t>(regrouped_.size());
    for (uint32_t i = r.begin; i < r.end; ++i) {
      if (local_instance(instances_[i])) regrouped_.push_back(instances_[i]);
    }
    const auto split = static_cast<uint32_t>(regrouped_.size());
    for (uint32_t i = r.begin; i < r.end; ++i) {
      if (!local_instance(instances_[i])) regrouped_.push_back(instances_[i]);
    }
    r = Range{begin, static_cast<uint32_t>(regrouped_.size()), split};
    r.regrouped = true;
  }
}

void InstanceTable::index_balancing() {
  const LoadBalancing& lb = load_balancing_;
  auto hashed = [](const AppLoadBalancing& a) {
    return !a.hash_header.empty() && (a.policy == LbPolicy::kMaglev || a.policy == LbPolicy::kRingHash);
  };
  any_hash_policy_ = hashed(lb.defaults);
  for (const auto& [app, a] : lb.apps) any_hash_policy_ = any_hash_policy_ || hashed(a);
  auto build = [&](const Range& r, uint32_t begin, uint32_t end) {
    std::span<const Instance> pool = span_of(r, begin, end);
    balancing_.push_back(build_pool_balancing(pool, lb.for_app(pool[0].app_id)));
    return static_cast<uint32_t>(balancing_.size() - 1);
  };
  // The whole range, and each cluster class on its own unless it is the whole range (always
  // so in a single cluster: no extra tables there).
  auto add = [&](Range& r) {
    if (r.begin == r.end) return;
    r.balancing = build(r, r.begin, r.end);
    r.local_balancing = r.split == r.end ? r.balancing : r.split > r.begin ? build(r, r.begin, r.split) : kNoBalancing;
    r.external_balancing = r.split == r.begin ? r.balancing : r.split < r.end ? build(r, r.split, r.end) : kNoBalancing;
  };
  for (auto& [app, r] : by_app_) add(r);
  if (!namespace_aware_) return;
  for (auto& [key, r] : by_app_ns_) {
    const Range& whole = by_app_.find(key.app_id)->second;
    if (!whole.regrouped && whole.begin == r.begin && whole.end == r.end) {
      // One namespace: share the app's tables.
      r.balancing = whole.balancing;
      r.local_balancing = whole.local_balancing;
      r.external_balancing = whole.external_balancing;
    } else {
      add(r);
    }
  }
}

}  // namespace ringside::snapshot
