#include "controlplane/sync/table_delta.h"


namespace ringside::sync {
namespace {

std::string key_text(const std::string& cluster, const std::string& app_id, const std::string& ns,
                     const std::string& address) {
  // NUL cannot appear in any of the fields as registries give them, so keys cannot collide.
  std::string key;
  key.reserve(cluster.size() + app_id.size() + ns.size() + address.size() + 3);
  key.append(cluster).push_back('\0');
  key.append(app_id).push_back('\0');
  key.append(ns).push_back('\0');
  key.append(address);
  return key;
}

}  // namespace

std::string instance_key(const v1::Instance& i) { return key_text(i.cluster(), i.app_id(), i.namespace_(), i.address()); }

std::string instance_key(const v1::InstanceKey& k) { return key_text(k.cluster(), k.app_id(), k.namespace_(), k.address()); }

v1::InstanceKey key_of(const v1::Instance& i) {
  v1::InstanceKey k;
  k.set_app_id(i.app_id());
  k.set_namespace_(i.namespace_());
  k.set_address(i.address());
  k.set_cluster(i.cluster());
  return k;
}

bool same_instance(const v1::Instance& a, const v1::Instance& b) {
  return a.app_id() == b.app_id() && a.namespace_() == b.namespace_() && a.address() == b.address() &&
         a.cluster() == b.cluster() && a.weight() == b.weight() && a.unhealthy() == b.unhealthy();
}

Delta compute_delta(const Table& before, const Table& after) {
  Delta d;
  // Both maps are ordered by key: one merge walk finds removals, additions and changes.
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      d.removals.push_back(key_of(b->second));
      ++b;
    } else if (b == before.end() || a->first < b->first) {
      d.upserts.push_back(a->second);
      ++a;
    } else {
      if (!same_instance(a->second, b->second)) d.upserts.push_back(a->second);
      ++a;
      ++b;
    }
  }
  return d;
}

}  // namespace ringside::sync
