#include "controlplane/resolvers/external/external_table.h"

#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
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

absl::Status ExternalTable::apply(const TableUpdate& update, bool* changed, Clock::time_point now) {
  *changed = false;
  if (update.kind() == TableUpdate::FULL) {
    std::map<Key, Attributes> next;
    absl::flat_hash_set<std::string> clusters;  // the clusters the new table speaks for
    for (const ringside::sync::v1::Instance& i : update.upserts()) {
      next[key_of(i)] = attributes_of(i);
      clusters.insert(i.cluster());
    }
    // What the sidecar sees is entries + carried; compare that before and after.
    std::map<Key, Attributes> seen_before = carried_;
    for (const auto& [k, a] : entries_) seen_before.insert_or_assign(k, a);
    if (!epoch_.empty() && update.epoch() != epoch_ && carry_over_.count() > 0) {
      // A new synchronizer run: keep what it does not know about yet, for a while.
      for (const auto& [key, a] : entries_) {
        if (!clusters.contains(std::get<3>(key))) carried_[key] = a;
      }
      if (!carried_.empty()) carried_until_ = now + carry_over_;
    }
    std::erase_if(carried_, [&](const auto& entry) { return clusters.contains(std::get<3>(entry.first)); });
    std::map<Key, Attributes> seen_after = carried_;
    for (const auto& [k, a] : next) seen_after.insert_or_assign(k, a);
    *changed = seen_before != seen_after;
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
    std::optional<Attributes> is = it == entries_.end() ? std::nullopt : std::optional<Attributes>(it->second);
    if (is != was) *changed = true;
  }
  if (drop_carried_clusters(update)) *changed = true;
  version_ = update.version();
  return absl::OkStatus();
}

bool ExternalTable::drop_carried_clusters(const TableUpdate& update) {
  if (carried_.empty()) return false;
  absl::flat_hash_set<std::string> clusters;
  for (const ringside::sync::v1::Instance& i : update.upserts()) clusters.insert(i.cluster());
  bool dropped = false;
  for (auto it = carried_.begin(); it != carried_.end();) {
    if (clusters.contains(std::get<3>(it->first))) {
      // Still listed under the same key by the synchronizer: no change the sidecar can see.
      dropped |= !entries_.contains(it->first) || !(entries_.at(it->first) == it->second);
      it = carried_.erase(it);
    } else {
      ++it;
    }
  }
  return dropped;
}

bool ExternalTable::expire_carried(Clock::time_point now) {
  if (carried_.empty() || now < carried_until_) return false;
  bool visible = false;  // an entry with the same key hides its carried copy
  for (const auto& [key, a] : carried_) visible |= !entries_.contains(key);
  carried_.clear();
  return visible;
}

std::optional<ExternalTable::Clock::time_point> ExternalTable::carried_until() const {
  if (carried_.empty()) return std::nullopt;
  return carried_until_;
}

std::vector<snapshot::Instance> ExternalTable::instances(size_t* skipped) const {
  std::map<Key, Attributes> all = carried_;
  for (const auto& [key, a] : entries_) all.insert_or_assign(key, a);
  std::vector<snapshot::Instance> out;
  out.reserve(all.size());
  size_t bad = 0;
  for (const auto& [key, a] : all) {
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
