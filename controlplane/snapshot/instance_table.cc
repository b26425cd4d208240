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

std::span<const Instance> InstanceTable::find(std::string_view app_id, std::string_view app_namespace) const {
  const Range* r = range_of(app_id, app_namespace);
  if (r == nullptr) return {};
  return std::span<const Instance>(instances_.data() + r->begin, r->end - r->begin);
}

InstanceTable::Pool InstanceTable::find_pool(std::string_view app_id, std::string_view app_namespace) const {
  const Range* r = range_of(app_id, app_namespace);
  if (r == nullptr || r->balancing == kNoBalancing) return {};
  return Pool{std::span<const Instance>(instances_.data() + r->begin, r->end - r->begin), &balancing_[r->balancing]};
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
  auto key = [](const Instance& i) {
    return std::tie(i.app_id, i.app_namespace, i.cluster, i.address_text, i.id);
  };
  std::sort(instances.begin(), instances.end(), [&](const Instance& a, const Instance& b) { return key(a) < key(b); });

  std::unique_ptr<InstanceTable> t(new InstanceTable());
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
  if (clusters != nullptr) t->clusters_ = *clusters;
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

void InstanceTable::index_balancing() {
  const LoadBalancing& lb = load_balancing_;
  auto hashed = [](const AppLoadBalancing& a) {
    return !a.hash_header.empty() && (a.policy == LbPolicy::kMaglev || a.policy == LbPolicy::kRingHash);
  };
  any_hash_policy_ = hashed(lb.defaults);
  for (const auto& [app, a] : lb.apps) any_hash_policy_ = any_hash_policy_ || hashed(a);
  balancing_.reserve(by_app_.size() + (namespace_aware_ ? by_app_ns_.size() : 0));
  auto add = [&](Range& r) {
    if (r.begin == r.end) return;
    std::span<const Instance> pool(instances_.data() + r.begin, r.end - r.begin);
    r.balancing = static_cast<uint32_t>(balancing_.size());
    balancing_.push_back(build_pool_balancing(pool, lb.for_app(pool[0].app_id)));
  };
  for (auto& [app, r] : by_app_) add(r);
  if (!namespace_aware_) return;
  for (auto& [key, r] : by_app_ns_) {
    const Range& whole = by_app_.find(key.app_id)->second;
    if (whole.begin == r.begin && whole.end == r.end) {
      r.balancing = whole.balancing;  // one namespace: share the app's tables
    } else {
      add(r);
    }
  }
}

}  // namespace ringside::snapshot
