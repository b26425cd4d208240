#include "controlplane/sync/sync_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ringside::sync {

SyncState::SyncState(std::string own_cluster, std::string epoch, std::chrono::milliseconds export_ttl,
                     SubscriberLimits limits)
    : own_cluster_(std::move(own_cluster)), epoch_(std::move(epoch)), limits_(limits), imports_(export_ttl) {}

void SyncState::set_local(std::vector<v1::Instance> instances) {
  Table next;
  for (v1::Instance& i : instances) {
    i.set_cluster(own_cluster_);
    next[instance_key(i)] = std::move(i);
  }
  std::lock_guard<std::mutex> lock(mu_);
  registry_failing_ = false;
  if (local_version_ != 0 && compute_delta(local_, next).empty()) return;
  local_ = std::move(next);
  ++local_version_;
  changed_.notify_all();
}

SyncState::LocalTable SyncState::local() const {
  std::lock_guard<std::mutex> lock(mu_);
  LocalTable t;
  t.version = local_version_;
  t.instances.reserve(local_.size());
  for (const auto& [k, i] : local_) t.instances.push_back(i);
  return t;
}

void SyncState::wait_local_change(uint64_t known, TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_until(lock, deadline, [&] { return stopping_ || local_version_ != known; });
}

void SyncState::set_registry_error(bool failing) {
  std::lock_guard<std::mutex> lock(mu_);
  registry_failing_ = failing;
}

void SyncState::begin_warmup(std::set<std::string> peers, TimePoint until) {
  std::lock_guard<std::mutex> lock(mu_);
  awaited_peers_ = std::move(peers);
  warm_until_ = until;
  warming_ = !awaited_peers_.empty();
}

bool SyncState::warming() const {
  std::lock_guard<std::mutex> lock(mu_);
  return warming_;
}

uint64_t SyncState::import_open(const std::string& cluster, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  return imports_.open_stream(cluster, now);
}

bool SyncState::import_apply(const std::string& cluster, uint64_t stream, const v1::ExportRequest& request,
                             TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  bool changed = false;
  if (!imports_.apply(cluster, stream, request, now, &changed)) return false;
  ++exports_received_[cluster];
  if (changed) republish_locked();
  if (warming_ && awaited_peers_.erase(cluster) > 0 && awaited_peers_.empty()) {
    warming_ = false;
    changed_.notify_all();
  }
  return true;
}

void SyncState::import_close(const std::string& cluster, uint64_t stream, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  imports_.close_stream(cluster, stream, now);
}

void SyncState::expire(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (imports_.expire(now)) republish_locked();
  if (warming_ && now >= warm_until_) {
    warming_ = false;  // a peer that is down does not keep the others' instances from sidecars
    changed_.notify_all();
  }
}

void SyncState::republish_locked() {
  Table next = imports_.merged();
  Delta d = compute_delta(published_, next);
  if (d.empty()) return;
  published_ = std::move(next);
  const uint64_t base = version_++;
  v1::TableUpdate delta;
  delta.set_kind(v1::TableUpdate::DELTA);
  delta.set_epoch(epoch_);
  delta.set_version(version_);
  delta.set_base_version(base);
  for (v1::InstanceKey& k : d.removals) *delta.add_removals() = std::move(k);
  for (v1::Instance& i : d.upserts) *delta.add_upserts() = std::move(i);
  uint32_t clusters = 0;
  for (const auto& c : imports_.clusters()) clusters += c.instances > 0 ? 1 : 0;
  delta.set_clusters(clusters);
  for (const std::shared_ptr<Subscriber>& s : subscribers_) {
    if (s->needs_full) continue;  // its FULL will be built from the newest table anyway
    if (s->queue.size() >= limits_.queue_updates) {
      // Fallen behind: a FULL of the newest table is smaller than the backlog and cannot be
      // out of order with it.
      s->queue.clear();
      s->needs_full = true;
      ++fulls_for_lag_;
      continue;
    }
    s->queue.push_back(delta);
  }
  changed_.notify_all();
}

v1::TableUpdate SyncState::full_locked() const {
  v1::TableUpdate full;
  full.set_kind(v1::TableUpdate::FULL);
  full.set_epoch(epoch_);
  full.set_version(version_);
  for (const auto& [k, i] : published_) *full.add_upserts() = i;
  uint32_t clusters = 0;
  for (const auto& c : imports_.clusters()) clusters += c.instances > 0 ? 1 : 0;
  full.set_clusters(clusters);
  return full;
}

std::shared_ptr<Subscriber> SyncState::subscribe(std::string app_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (subscribers_.size() >= limits_.max_subscribers) {
    ++subscribers_refused_;
    return nullptr;
  }
  auto s = std::make_shared<Subscriber>();
  s->app_id = std::move(app_id);
  subscribers_.push_back(s);
  return s;
}

void SyncState::unsubscribe(const std::shared_ptr<Subscriber>& subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), subscriber), subscribers_.end());
}

std::optional<v1::TableUpdate> SyncState::next_update(Subscriber* s, TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_until(lock, deadline,
                      [&] { return stopping_ || (!warming_ && (s->needs_full || !s->queue.empty())); });
  if (stopping_ || warming_) return std::nullopt;
  if (s->needs_full) {
    s->needs_full = false;
    s->queue.clear();
    return full_locked();
  }
  if (s->queue.empty()) return std::nullopt;
  v1::TableUpdate u = std::move(s->queue.front());
  s->queue.pop_front();
  return u;
}

void SyncState::export_connected(const std::string& peer, bool connected) {
  std::lock_guard<std::mutex> lock(mu_);
  export_connected_[peer] = connected;
}

void SyncState::export_sent(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  ++exports_sent_[peer];
}

uint64_t SyncState::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

Table SyncState::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

bool SyncState::healthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return local_version_ != 0 && !registry_failing_ && !stopping_;
}

void SyncState::shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  changed_.notify_all();
}

bool SyncState::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

std::string SyncState::metrics_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto cluster_label = [](const std::string& c) { return absl::StrCat("{cluster=\"", c, "\"}"); };
  absl::StrAppend(&out, "# HELP ringside_sync_peers_connected Peer synchronizers with an open Export stream to us.\n",
                  "# TYPE ringside_sync_peers_connected gauge\n", "ringside_sync_peers_connected ",
                  imports_.connected_count(), "\n");
  size_t exports_up = 0;
  for (const auto& [peer, up] : export_connected_) exports_up += up ? 1 : 0;
  absl::StrAppend(&out, "# HELP ringside_sync_exports_connected Peers our own Export stream is open to.\n",
                  "# TYPE ringside_sync_exports_connected gauge\n", "ringside_sync_exports_connected ", exports_up,
                  "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_instances Instances known per cluster (own cluster from the registry).\n",
                  "# TYPE ringside_sync_instances gauge\n");
  absl::StrAppend(&out, "ringside_sync_instances", cluster_label(own_cluster_), " ", local_.size(), "\n");
  for (const auto& c : imports_.clusters())
    absl::StrAppend(&out, "ringside_sync_instances", cluster_label(c.name), " ", c.instances, "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_table_version Version of the table served to subscribers.\n",
                  "# TYPE ringside_sync_table_version gauge\n", "ringside_sync_table_version ", version_, "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_table_instances Instances in the table served to subscribers.\n",
                  "# TYPE ringside_sync_table_instances gauge\n", "ringside_sync_table_instances ",
                  published_.size(), "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_subscribers Sidecars subscribed now.\n",
                  "# TYPE ringside_sync_subscribers gauge\n", "ringside_sync_subscribers ", subscribers_.size(), "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_subscribers_refused_total Subscribe calls refused at maxSubscribers.\n",
                  "# TYPE ringside_sync_subscribers_refused_total counter\n",
                  "ringside_sync_subscribers_refused_total ", subscribers_refused_, "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_subscriber_resyncs_total FULL tables sent because a subscriber fell behind.\n",
                  "# TYPE ringside_sync_subscriber_resyncs_total counter\n",
                  "ringside_sync_subscriber_resyncs_total ", fulls_for_lag_, "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_exports_sent_total ExportRequests sent per peer cluster.\n",
                  "# TYPE ringside_sync_exports_sent_total counter\n");
  for (const auto& [peer, n] : exports_sent_)
    absl::StrAppend(&out, "ringside_sync_exports_sent_total", cluster_label(peer), " ", n, "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_exports_received_total ExportRequests received per peer cluster.\n",
                  "# TYPE ringside_sync_exports_received_total counter\n");
  for (const auto& [peer, n] : exports_received_)
    absl::StrAppend(&out, "ringside_sync_exports_received_total", cluster_label(peer), " ", n, "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_warming 1 while subscribers wait for the peers' first exports after start.\n",
                  "# TYPE ringside_sync_warming gauge\n", "ringside_sync_warming ", warming_ ? 1 : 0, "\n");
  absl::StrAppend(&out, "# HELP ringside_sync_registry_up Whether the last read of the own registry succeeded.\n",
                  "# TYPE ringside_sync_registry_up gauge\n", "ringside_sync_registry_up ",
                  (local_version_ != 0 && !registry_failing_) ? 1 : 0, "\n");
  return out;
}

}  // namespace ringside::sync
