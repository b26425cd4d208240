#include "controlplane/snapshot/snapshot_registry.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

namespace ringside::snapshot {

// Memory-ordering argument (why readers need no lock):
// - quiescent(): the acquire load of epoch_ that returns E synchronizes with the publish()
//   that produced E; that publish swapped current_ first, so every later current() of this
//   reader returns the new table. The release store of seen_epoch_ orders all earlier uses of
//   the old table before reclaim()'s acquire load that reads it.
// - offline(): release store of 0 orders all earlier table uses before reclaim() skipping us.
// - online(): store-then-load against reclaim()'s swap-then-load is a Dekker pattern; the two
//   seq_cst fences guarantee that either reclaim() sees our non-zero (possibly stale) epoch,
//   which holds the old table back, or our next current() returns the new table.

void SnapshotRegistry::Reader::quiescent() {
  const uint64_t e = registry_->epoch_.load(std::memory_order_acquire);
  if (seen_epoch_.load(std::memory_order_relaxed) != e) seen_epoch_.store(e, std::memory_order_release);
}

void SnapshotRegistry::Reader::offline() { seen_epoch_.store(0, std::memory_order_release); }

void SnapshotRegistry::Reader::online() {
  seen_epoch_.store(registry_->epoch_.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

bool SnapshotRegistry::Reader::request_lookup(std::string_view app_id, std::string_view ns) {
  if (!lookups_.push(app_id, ns)) return false;
  const int fd = registry_->lookup_fd_.load(std::memory_order_acquire);
  if (fd >= 0) {
    uint64_t one = 1;
    (void)!write(fd, &one, sizeof one);  // non-blocking eventfd: never waits
  }
  return true;
}

SnapshotRegistry::SnapshotRegistry(int max_readers)
    : max_readers_(std::max(max_readers, 0)), readers_(new Reader[std::max(max_readers, 0)]) {
  for (int i = 0; i < max_readers_; ++i) {
    readers_[i].registry_ = this;
    readers_[i].wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  current_.store(InstanceTable::build({}, false, 0).release(), std::memory_order_release);
}

SnapshotRegistry::~SnapshotRegistry() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Retired& r : retired_) delete r.table;
  delete current_.load(std::memory_order_acquire);
  for (int i = 0; i < max_readers_; ++i) {
    if (readers_[i].wake_fd_ >= 0) close(readers_[i].wake_fd_);
  }
}

void SnapshotRegistry::publish(std::unique_ptr<const InstanceTable> table) {
  std::lock_guard<std::mutex> lock(mu_);
  const InstanceTable* old = current_.exchange(table.release(), std::memory_order_seq_cst);
  const uint64_t retired_at = epoch_.fetch_add(1, std::memory_order_seq_cst) + 1;
  retired_.push_back(Retired{old, retired_at});
  // Wake the shards now rather than at their next timer tick.
  const int n = reader_count_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    uint64_t one = 1;
    if (readers_[i].wake_fd_ >= 0) (void)!write(readers_[i].wake_fd_, &one, sizeof one);
  }
}

SnapshotRegistry::Reader* SnapshotRegistry::register_reader() {
  int slot = reader_count_.load(std::memory_order_relaxed);
  do {
    if (slot >= max_readers_) return nullptr;
  } while (!reader_count_.compare_exchange_weak(slot, slot + 1, std::memory_order_acq_rel));
  Reader* r = &readers_[slot];
  r->online();
  return r;
}

size_t SnapshotRegistry::reclaim() {
  std::lock_guard<std::mutex> lock(mu_);
  if (retired_.empty()) return 0;
  std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with Reader::online()
  uint64_t oldest = std::numeric_limits<uint64_t>::max();
  const int n = reader_count_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    const uint64_t seen = readers_[i].seen_epoch_.load(std::memory_order_acquire);
    if (seen != 0) oldest = std::min(oldest, seen);
  }
  size_t freed = 0;
  auto keep = std::remove_if(retired_.begin(), retired_.end(), [&](const Retired& r) {
    if (r.retired_at > oldest) return false;
    delete r.table;
    ++freed;
    return true;
  });
  retired_.erase(keep, retired_.end());
  return freed;
}

size_t SnapshotRegistry::retired_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retired_.size();
}

}  // namespace ringside::snapshot
