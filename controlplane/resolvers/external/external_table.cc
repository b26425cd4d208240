#include "controlplane/resolvers/external/external_table.h"

#include <optional>
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
  // A delta may remove an instance and add it back unchanged (a re-registration), or name one
  // twice: compare every touched instance with what it was before the delta.
  std::map<Key, std::optional<Attributes>> before;  // touched keys; nullopt = absent before
  auto touch = [&](const Key& key) {
    if (before.contains(key)) return;
    auto it = entries_.find(key);
    before.emplace(key, it == entries_.end() ? std::nullopt : std::optional<Attributes>(it->second));
  };
  for (const ringside::sync::v1::InstanceKey& k : update.removals()) {
    Key key = key_of(k);
    touch(key);
    entries_.erase(key);
  }
  for (const ringside::sync::v1::Instance& i : update.upserts()) {
    Key key = key_of(i);
    touch(key);
    entries_.insert_or_assign(std::move(key), attributes_of(i));
  }
  for (const auto& [key, was] : before) {
    auto it = entries_.find(key);
    std::optional<Attributes> now = it == entries_.end() ? std::nullopt : std::optional<Attributes>(it->second);
    if (now != was) *changed = true;
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
