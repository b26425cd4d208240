#include "controlplane/control_plane.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ringside {

using std::chrono::milliseconds;

ControlPlane::ControlPlane(std::unique_ptr<resolvers::Resolver> resolver, snapshot::SnapshotRegistry* registry,
                           ControlPlaneOptions options)
    : resolver_(std::move(resolver)),
      registry_(registry),
      options_(options),
      namespace_aware_(resolver_->namespace_aware()),
      lists_(resolver_->lists()) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

ControlPlane::~ControlPlane() {
  {
    std::lock_guard<std::mutex> lock(dns_gate_->mu);
    dns_gate_->open = false;
  }
  stop();
  registry_->set_lookup_listener(-1);
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::Status ControlPlane::start(const resolvers::SelfRegistration& self) {
  if (wake_fd_ < 0) return absl::InternalError("control plane: cannot create eventfd");
  if (options_.host_resolver) {
    // The DNS client may outlive us: its thread reaches us only through the gate, which the
    // destructor closes.
    options_.host_resolver->set_on_change([this, gate = dns_gate_] {
      std::lock_guard<std::mutex> open(gate->mu);
      if (!gate->open) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        dirty_ = true;
      }
      wake();
    });
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    own_namespace_ = self.app_namespace;
  }
  if (absl::Status s = resolver_->start(self, this); !s.ok()) return s;
  if (lists_) {
    if (absl::Status s = refresh_listing(); !s.ok()) {
      resolver_->stop();
      return s;
    }
  }
  rebuild();
  registry_->set_lookup_listener(wake_fd_);
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void ControlPlane::wake() {
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void ControlPlane::request_refresh() {
  if (refresh_requested_.exchange(true, std::memory_order_acq_rel)) return;  // already pending
  wake();
}

void ControlPlane::stop() {
  if (!started_) return;
  started_ = false;
  stopping_.store(true, std::memory_order_release);
  wake();
  if (thread_.joinable()) thread_.join();
  resolver_->stop();
  registry_->reclaim();
}

// Issue 10, app health (docs/app-health.md).
void ControlPlane::set_serving(bool serving) {
  serving_wanted_.store(serving, std::memory_order_release);
  refresh_requested_.store(true, std::memory_order_release);  // list again at once after the change
  wake();
}

void ControlPlane::apply_serving() {
  const bool wanted = serving_wanted_.load(std::memory_order_acquire);
  if (wanted == serving_applied_) return;
  absl::Status s = resolver_->set_serving(wanted);
  if (!s.ok()) {
    log_status(wanted ? "restoring our registration" : "withdrawing our registration", s);
    return;  // tried again on the next turn
  }
  serving_applied_ = wanted;
}

ControlPlane::AppKey ControlPlane::key_of(std::string_view app_id, std::string_view ns) const {
  return AppKey{std::string(app_id), namespace_aware_ ? std::string(ns) : std::string()};
}

void ControlPlane::publish_all(std::vector<snapshot::Instance> instances) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    all_ = std::move(instances);
    per_app_.clear();
    dirty_ = true;
  }
  wake();
}

void ControlPlane::publish_app(std::string app_id, std::string ns, std::vector<snapshot::Instance> instances) {
  AppKey key = key_of(app_id, ns);
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::time_point now = Clock::now();
    Clock::time_point since = now;
    if (auto it = pending_.find(key); it != pending_.end()) {
      since = it->second;
      pending_.erase(it);
    }
    if (instances.empty()) {
      per_app_.erase(key);
      none_found(key, since, now);
    } else {
      held_.erase(key);
      absent_.erase(key);
      per_app_[std::move(key)] = std::move(instances);
    }
    dirty_ = true;
  }
  wake();
}

void ControlPlane::publish_external(std::vector<snapshot::Instance> instances) {
  // Our own cluster's instances come from our registry; a synchronizer echoing them back (or a
  // stale copy from before a move) must not add or resurrect any.
  const std::string& own = options_.clusters.local_cluster;
  std::erase_if(instances, [&](const snapshot::Instance& i) { return !own.empty() && i.cluster == own; });
  external_count_.store(instances.size(), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    // An instance from a registry that carries no namespaces (sqlite rows written without one,
    // say) has namespace "": in a namespace-aware table it would match no call. It is taken to
    // serve in our own namespace, the one calls without ".namespace" target.
    if (namespace_aware_) {
      for (snapshot::Instance& i : instances) {
        if (i.app_namespace.empty()) i.app_namespace = own_namespace_;
      }
    }
    external_ = std::move(instances);
    external_received_ = true;
    // Local "none found" answers held back for this list: the table now has the app id, or
    // nobody has it. A lookup still waiting on the local resolver is answered by the table if
    // the list has the app id; the local answer, when it comes, still lands (publish_app).
    const Clock::time_point now = Clock::now();
    for (const auto& [key, since] : held_) {
      if (!known_externally(key)) absent_[key] = now + options_.negative_ttl;
    }
    held_.clear();
    dirty_ = true;
  }
  wake();
}

void ControlPlane::none_found(const AppKey& key, Clock::time_point since, Clock::time_point now) {
  if (options_.await_external && !external_received_ && now - since < options_.lookup_timeout) {
    held_.emplace(key, since);
    return;
  }
  absent_[key] = now + options_.negative_ttl;
}

bool ControlPlane::known_externally(const AppKey& key) const {
  for (const snapshot::Instance& i : external_) {
    if (i.app_id == key.app_id && (key.app_namespace.empty() || i.app_namespace == key.app_namespace)) return true;
  }
  return false;
}

void ControlPlane::report_status(const absl::Status& status) { log_status("name resolution", status); }

void ControlPlane::log_status(std::string_view what, const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status.ok()) {
    last_logged_.clear();
    return;
  }
  std::string text = std::string(what) + ": " + std::string(status.message());
  if (text == last_logged_) return;  // resolvers retry every tick; log each new problem once
  last_logged_ = text;
  std::fprintf(stderr, "ringside: control plane: %s\n", text.c_str());
}

absl::Status ControlPlane::refresh_listing() {
  absl::StatusOr<std::vector<snapshot::Instance>> instances = resolver_->list();
  if (!instances.ok()) return instances.status();
  const Clock::time_point now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  all_ = *std::move(instances);
  dirty_ = true;
  // A listing is the whole registry: every app id asked for and not in it has no instance.
  if (!pending_.empty()) {
    absl::flat_hash_map<AppKey, bool> listed;
    for (const snapshot::Instance& i : all_) {
      listed.emplace(key_of(i.app_id, i.app_namespace), true);
      if (namespace_aware_) listed.emplace(AppKey{i.app_id, ""}, true);
    }
    for (const auto& [key, since] : pending_) {
      if (!listed.contains(key)) none_found(key, since, now);
    }
    pending_.clear();
  }
  return absl::OkStatus();
}

void ControlPlane::take_lookup_requests(Clock::time_point now) {
  std::vector<AppKey> to_look_up;
  registry_->drain_lookups([&](std::string_view app_id, std::string_view ns) {
    lookups_requested_.fetch_add(1, std::memory_order_relaxed);
    to_look_up.push_back(key_of(app_id, ns));
  });
  if (to_look_up.empty()) return;
  std::vector<AppKey> ask;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (AppKey& key : to_look_up) {
      // Already answered (the shard raced a publish and will see it) or already being asked.
      if (per_app_.contains(key) || absent_.contains(key) || pending_.contains(key) || held_.contains(key)) continue;
      bool listed = false;
      for (const snapshot::Instance& i : all_) {
        if (i.app_id == key.app_id && (key.app_namespace.empty() || i.app_namespace == key.app_namespace)) {
          listed = true;
          break;
        }
      }
      if (listed || known_externally(key)) continue;  // the table answers it
      pending_.emplace(key, now);
      ask.push_back(std::move(key));
    }
  }
  if (ask.empty()) return;
  if (lists_) {
    refresh_requested_.store(true, std::memory_order_release);  // listed again below
    return;
  }
  for (const AppKey& key : ask) resolver_->lookup(key.app_id, key.app_namespace);
}

void ControlPlane::expire(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = absent_.begin(); it != absent_.end();) {
    if (it->second <= now) {
      absent_.erase(it++);
      dirty_ = true;
    } else {
      ++it;
    }
  }
  // The first external list is late: parked calls must not wait past their bound either.
  for (auto it = held_.begin(); it != held_.end();) {
    if (now - it->second >= options_.lookup_timeout) {
      absent_[it->first] = now + options_.negative_ttl;
      held_.erase(it++);
      dirty_ = true;
    } else {
      ++it;
    }
  }
  // A pushing resolver that never answers: parked calls must not wait past their bound.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second >= options_.lookup_timeout) {
      absent_[it->first] = now + options_.negative_ttl;
      pending_.erase(it++);
      dirty_ = true;
    } else {
      ++it;
    }
  }
}

std::vector<snapshot::Instance> ControlPlane::bind_host_names(std::vector<snapshot::Instance> instances) {
  std::vector<snapshot::Instance> out;
  out.reserve(instances.size());
  for (snapshot::Instance& i : instances) {
    if (!snapshot::needs_dns(i)) {
      if (i.addr.dialable()) out.push_back(std::move(i));
      continue;
    }
    if (!options_.host_resolver) {
      log_status("name resolution", absl::FailedPreconditionError(
                                        "instance " + i.address_text + " has a host name and no DNS resolver is configured"));
      continue;
    }
    // Not answered yet: left out until the host resolver's on_change marks us dirty.
    for (const snapshot::SocketAddress& a : options_.host_resolver->addresses(i.host_name)) {
      out.push_back(snapshot::with_resolved_address(i, a));
    }
  }
  return out;
}

void ControlPlane::rebuild() {
  std::vector<snapshot::Instance> instances;
  std::vector<snapshot::InstanceTable::AbsentApp> absent;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!dirty_) return;
    dirty_ = false;
    size_t n = all_.size() + external_.size();
    for (const auto& [key, v] : per_app_) n += v.size();
    instances.reserve(n);
    instances = all_;
    for (const auto& [key, v] : per_app_) instances.insert(instances.end(), v.begin(), v.end());
    // Every local instance carries its cluster, so the shards' strategy filter and the logs
    // never have to guess what an empty tag means.
    if (!options_.clusters.local_cluster.empty()) {
      for (snapshot::Instance& i : instances) {
        if (i.cluster.empty()) i.cluster = options_.clusters.local_cluster;
      }
    }
    instances.insert(instances.end(), external_.begin(), external_.end());
    absent.reserve(absent_.size());
    for (const auto& [key, until] : absent_) absent.push_back({key.app_id, key.app_namespace});
  }
  instances = bind_host_names(std::move(instances));
  std::unique_ptr<snapshot::InstanceTable> table =
      snapshot::InstanceTable::build(std::move(instances), namespace_aware_, next_version_, std::move(absent),
                                     &options_.load_balancing, &options_.clusters);
  // We are the only publisher, so the current table cannot be freed under us.
  if (table->same_contents(*registry_->current())) return;
  ++next_version_;
  registry_->publish(std::move(table));
  tables_published_.fetch_add(1, std::memory_order_relaxed);
}

void ControlPlane::run() {
  const milliseconds heartbeat_every = std::max(resolver_->heartbeat_interval(), milliseconds(1));
  Clock::time_point next_refresh = Clock::now() + options_.refresh_interval;
  Clock::time_point next_heartbeat = Clock::now() + heartbeat_every;
  while (!stopping_.load(std::memory_order_acquire)) {
    Clock::time_point wake_at = next_heartbeat;
    if (lists_) wake_at = std::min(wake_at, next_refresh);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [key, until] : absent_) wake_at = std::min(wake_at, until);
      for (const auto& [key, since] : pending_) wake_at = std::min(wake_at, since + options_.lookup_timeout);
      for (const auto& [key, since] : held_) wake_at = std::min(wake_at, since + options_.lookup_timeout);
    }
    const auto wait = std::chrono::duration_cast<milliseconds>(wake_at - Clock::now());
    pollfd pfd{wake_fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 0, 60000))) > 0) {
      uint64_t drained = 0;
      (void)!read(wake_fd_, &drained, sizeof(drained));
    }
    if (stopping_.load(std::memory_order_acquire)) break;

    Clock::time_point now = Clock::now();
    if (now >= next_heartbeat) {
      absl::Status s = resolver_->heartbeat();
      if (!s.ok()) log_status("heartbeat", s);
      next_heartbeat = now + heartbeat_every;
    }
    apply_serving();  // issue 10: before listing, so the list already reflects it
    take_lookup_requests(now);
    if (lists_ && (refresh_requested_.exchange(false, std::memory_order_acq_rel) || now >= next_refresh)) {
      absl::Status s = refresh_listing();
      log_status("refreshing instances", s);
      next_refresh = Clock::now() + options_.refresh_interval;
    }
    expire(Clock::now());
    rebuild();
    registry_->reclaim();
  }
}

}  // namespace ringside
