// Tables of sync.proto Instances keyed by identity, and the delta between two of them: what a
// DELTA TableUpdate carries (removals, then upserts). apply_delta() is the subscriber's side,
// kept here so the tests check compute/apply against each other.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ringside/sync/v1/sync.grpc.pb.h"

namespace ringside::sync {

namespace v1 = ::ringside::sync::v1;

// Ordered so that a FULL table and every delta list instances in the same, stable order.
using Table = std::map<std::string, v1::Instance>;  // instance_key() -> instance

// Identity of an instance: cluster, app id, namespace, address (NUL-separated).
std::string instance_key(const v1::Instance& instance);
std::string instance_key(const v1::InstanceKey& key);
v1::InstanceKey key_of(const v1::Instance& instance);

// Whether two instances with the same key differ in anything a subscriber uses (weight, health).
bool same_instance(const v1::Instance& a, const v1::Instance& b);

struct Delta {
  std::vector<v1::InstanceKey> removals;  // keys in old but not in new
  std::vector<v1::Instance> upserts;      // instances new in `new`, or changed

  bool empty() const { return removals.empty() && upserts.empty(); }
};

// What turns `before` into `after`.
Delta compute_delta(const Table& before, const Table& after);

// Applies removals then upserts (the order a DELTA is defined with).
template <typename Removals, typename Upserts>
void apply_delta(Table* table, const Removals& removals, const Upserts& upserts) {
  for (const v1::InstanceKey& k : removals) table->erase(instance_key(k));
  for (const v1::Instance& i : upserts) (*table)[instance_key(i)] = i;
}

}  // namespace ringside::sync
