#include "controlplane/resolvers/external/external_table.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace ringside::resolvers::external {

using ringside::sync::v1::TableUpdate;

ExternalTable::Key ExternalTable::key_of(const ringside::sync::v1::Instance& i) {
  return Key{i.app_id(), i.namespace_(), i.address(), i.cluster()};
}

ExternalTable::Key ExternalTable::key_of(const ringside::sync::v1::InstanceKey& k) {
  return Key{k.app_id(), k.namespace_(), k.address(), k.cluster()};
}

ExternalTable::Attributes ExternalTable::attributes_of(const ringside::sync::v1::Instance& i) {
  return Attributes{i.weight() == 0 ? 1u : i.weight(), !i.unhealthy()};
}

absl::Status ExternalTable::apply(const TableUpdate& update, bool* changed) {
  *changed = false;
  if (update.kind() == TableUpdate::FULL) {
    std::map<Key, Attributes> next;
    for (const ringside::sync::v1::Instance& i : update.upserts()) next[key_of(i)] = attributes_of(i);
    *changed = next != entries_;
    entries_ = std::move(next);
    epoch_ = update.epoch();
    version_ = update.version();
    synced_ = true;
    return absl::OkStatus();
  }
  if (update.kind() != TableUpdate::DELTA) {
    return absl::InvalidArgumentError(absl::StrCat("update of unknown kind ", static_cast<int>(update.kind())));
  }
  // Checked before touching anything: a rejected delta leaves the table as it was.
  if (!synced_) return absl::FailedPreconditionError("delta before any full table on this stream");
  if (update.epoch() != epoch_) {
    return absl::FailedPreconditionError(
        absl::StrCat("delta of epoch \"", update.epoch(), "\" while holding epoch \"", epoch_, "\""));
  }
  if (update.base_version() != version_) {
    return absl::FailedPreconditionError(
        absl::StrCat("delta on version ", update.base_version(), " while holding version ", version_));
  }
  for (const ringside::sync::v1::InstanceKey& k : update.removals()) {
    *changed |= entries_.erase(key_of(k)) > 0;
  }
  for (const ringside::sync::v1::Instance& i : update.upserts()) {
    Attributes a = attributes_of(i);
    auto [it, inserted] = entries_.try_emplace(key_of(i), a);
    if (!inserted && !(it->second == a)) {
      it->second = a;
      *changed = true;
    }
    *changed |= inserted;
  }
  version_ = update.version();
  return absl::OkStatus();
}

std::vector<snapshot::Instance> ExternalTable::instances(size_t* skipped) const {
  std::vector<snapshot::Instance> out;
  out.reserve(entries_.size());
  size_t bad = 0;
  for (const auto& [key, a] : entries_) {
    const auto& [app_id, ns, address, cluster] = key;
    absl::StatusOr<snapshot::Instance> i = snapshot::make_instance(app_id, ns, address, cluster, a.weight);
    if (!i.ok()) {
      ++bad;
      continue;
    }
    i->healthy = a.healthy;
    out.push_back(*std::move(i));
  }
  if (skipped) *skipped = bad;
  return out;
}

}  // namespace ringside::resolvers::external
