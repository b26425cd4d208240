#pragma once
// ThreadLayout: which thread of ringsided runs on which CPU, decided once at start-up from the
// final Options (flags over spec.ringside.dataplane over defaults). The same plan pins the
// threads and is printed by --print-layout, so what is printed is what runs.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "controlplane/config/options.h"

namespace ringside::shard {

struct ThreadLayout {
  std::vector<int> shard_cpus;    // per shard: its CPU, or -1 = unpinned (any allowed CPU)
  std::vector<int> poller_cpus;   // per SQPOLL poller: its CPU, -1 = kernel's choice; empty = no SQPOLL
  bool shared_poller = false;     // one poller serves every shard (IORING_SETUP_ATTACH_WQ)
  std::vector<int> housekeeping;  // CPUs of the main, control-plane and metrics threads
  uint32_t busy_poll_us = 0;      // shards spin this long before sleeping; 0 = off
};

// The plan for `o` (after apply_dataplane_config). `pin_shards`: whether shards are pinned
// (CPUs chosen, or neither a CPU list nor a shard count given). `allowed`: sched_getaffinity.
// Housekeeping threads get the allowed CPUs no shard or poller uses, or all allowed CPUs when
// that leaves none (a 2-CPU host running 2 shards) or some shard is unpinned.
ThreadLayout plan_thread_layout(const config::Options& o, bool pin_shards, const std::vector<int>& allowed);

// Poller CPU for shard `index` (RingOptions::sqpoll_cpu): -1 = kernel's choice.
int poller_cpu_of(const ThreadLayout& layout, int index);

// The text --print-layout prints: one line per thread, "<thread> <cpus> <what it does>".
std::string layout_text(const ThreadLayout& layout);

// Pins the calling thread to `cpus` (threads it starts afterwards inherit them).
absl::Status pin_current_thread(const std::vector<int>& cpus);

}  // namespace ringside::shard
