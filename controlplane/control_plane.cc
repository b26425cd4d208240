#include "controlplane/control_plane.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ringside {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

ControlPlane::ControlPlane(std::unique_ptr<resolvers::Resolver> resolver, snapshot::SnapshotRegistry* registry,
                           milliseconds refresh_interval)
    : resolver_(std::move(resolver)), registry_(registry), refresh_interval_(refresh_interval) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

ControlPlane::~ControlPlane() {
  stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::Status ControlPlane::start(const resolvers::SelfRegistration& self) {
  if (wake_fd_ < 0) return absl::InternalError("control plane: cannot create eventfd");
  if (absl::Status s = resolver_->start(self); !s.ok()) return s;
  if (absl::Status s = refresh(); !s.ok()) {
    resolver_->stop();
    return s;
  }
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

void ControlPlane::request_refresh() {
  if (refresh_requested_.exchange(true, std::memory_order_acq_rel)) return;  // already pending
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void ControlPlane::stop() {
  if (!started_) return;
  started_ = false;
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  resolver_->stop();
  registry_->reclaim();
}

absl::Status ControlPlane::refresh() {
  absl::StatusOr<std::vector<snapshot::Instance>> instances = resolver_->list();
  if (!instances.ok()) return instances.status();
  std::unique_ptr<snapshot::InstanceTable> table =
      snapshot::InstanceTable::build(*std::move(instances), resolver_->namespace_aware(), next_version_);
  // We are the only publisher, so the current table cannot be freed under us.
  if (table->same_contents(*registry_->current())) return absl::OkStatus();
  ++next_version_;
  registry_->publish(std::move(table));
  tables_published_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

void ControlPlane::log_error(std::string_view what, const absl::Status& status) {
  std::string text = std::string(what) + ": " + std::string(status.message());
  if (status.ok()) {
    last_error_.clear();
    return;
  }
  if (text == last_error_) return;  // resolvers retry every tick; log each new problem once
  last_error_ = text;
  std::fprintf(stderr, "ringside: control plane: %s\n", text.c_str());
}

void ControlPlane::run() {
  const milliseconds heartbeat_every = std::max(resolver_->heartbeat_interval(), milliseconds(1));
  Clock::time_point next_refresh = Clock::now() + refresh_interval_;
  Clock::time_point next_heartbeat = Clock::now() + heartbeat_every;
  while (!stopping_.load(std::memory_order_acquire)) {
    const Clock::time_point wake_at = std::min(next_refresh, next_heartbeat);
    const auto wait = std::chrono::duration_cast<milliseconds>(wake_at - Clock::now());
    pollfd pfd{wake_fd_, POLLIN, 0};
    if (wait.count() > 0 && poll(&pfd, 1, static_cast<int>(std::min<int64_t>(wait.count() + 1, 60000))) > 0) {
      uint64_t drained = 0;
      (void)!read(wake_fd_, &drained, sizeof(drained));
    }
    if (stopping_.load(std::memory_order_acquire)) break;

    Clock::time_point now = Clock::now();
    if (now >= next_heartbeat) {
      absl::Status s = resolver_->heartbeat();
      if (!s.ok()) log_error("heartbeat", s);
      next_heartbeat = now + heartbeat_every;
    }
    if (refresh_requested_.exchange(false, std::memory_order_acq_rel) || now >= next_refresh) {
      absl::Status s = refresh();
      log_error("refreshing instances", s);
      next_refresh = Clock::now() + refresh_interval_;
    }
    registry_->reclaim();
  }
}

}  // namespace ringside
