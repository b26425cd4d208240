#include "dataplane/main/thread_layout.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace ringside::shard {
namespace {

std::string cpus_text(const std::vector<int>& cpus) {
  if (cpus.empty()) return "any";
  return absl::StrJoin(cpus, ",");
}

std::string cpu_text(int cpu) { return cpu < 0 ? std::string("any") : absl::StrCat(cpu); }

}  // namespace

ThreadLayout plan_thread_layout(const config::Options& o, bool pin_shards, const std::vector<int>& allowed) {
  ThreadLayout l;
  l.busy_poll_us = o.busy_poll_us;
  for (int i = 0; i < o.shards; ++i)
    l.shard_cpus.push_back(pin_shards && i < static_cast<int>(o.cpus.size()) ? o.cpus[i] : -1);
  if (o.sqpoll) {
    l.shared_poller = o.sqpoll_shared;
    const int pollers = o.sqpoll_shared ? 1 : o.shards;
    for (int i = 0; i < pollers; ++i) {
      // --sqpoll-cpus names one CPU per poller; the older --sqpoll-cpu puts every poller on one.
      l.poller_cpus.push_back(i < static_cast<int>(o.sqpoll_cpus.size()) ? o.sqpoll_cpus[i] : o.sqpoll_cpu);
    }
  }
  for (int cpu : allowed) {
    const bool used = std::find(l.shard_cpus.begin(), l.shard_cpus.end(), cpu) != l.shard_cpus.end() ||
                      std::find(l.poller_cpus.begin(), l.poller_cpus.end(), cpu) != l.poller_cpus.end();
    if (!used) l.housekeeping.push_back(cpu);
  }
  // Unpinned shards inherit the main thread's CPUs: then nothing is narrowed.
  const bool unpinned = std::find(l.shard_cpus.begin(), l.shard_cpus.end(), -1) != l.shard_cpus.end();
  if (l.housekeeping.empty() || unpinned) l.housekeeping = allowed;
  return l;
}

int poller_cpu_of(const ThreadLayout& layout, int index) {
  if (layout.poller_cpus.empty()) return -1;
  return layout.poller_cpus[layout.shared_poller ? 0 : static_cast<size_t>(index)];
}

std::string layout_text(const ThreadLayout& l) {
  std::string out;
  auto line = [&](std::string_view thread, std::string_view cpus, std::string_view what) {
    absl::StrAppend(&out, absl::StrFormat("%-15s cpu %-10s %s\n", thread, cpus, what));
  };
  const std::string spin = l.busy_poll_us > 0 ? absl::StrCat(", busy-poll ", l.busy_poll_us, "us") : "";
  for (size_t i = 0; i < l.shard_cpus.size(); ++i)
    line(absl::StrCat("shard-", i), cpu_text(l.shard_cpus[i]), absl::StrCat("data plane: io_uring event loop", spin));
  if (l.shared_poller && !l.poller_cpus.empty()) {
    line("sqpoll-shared", cpu_text(l.poller_cpus[0]),
         absl::StrCat("kernel SQPOLL thread shared by shards 0-", l.shard_cpus.size() - 1, " (ATTACH_WQ)"));
  } else {
    for (size_t i = 0; i < l.poller_cpus.size(); ++i)
      line(absl::StrCat("sqpoll-", i), cpu_text(l.poller_cpus[i]), absl::StrCat("kernel SQPOLL thread of shard-", i));
  }
  const std::string hk = cpus_text(l.housekeeping);
  line("control-plane", hk, "name resolution, instance-table snapshots");
  line("metrics", hk, "Prometheus /metrics server (when enabled)");
  line("main", hk, "start-up, signals");
  return out;
}

absl::Status pin_current_thread(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    return absl::FailedPreconditionError(absl::StrCat("cannot pin the control-plane threads to CPUs ",
                                                      cpus_text(cpus), ": ", std::strerror(errno)));
  return absl::OkStatus();
}

}  // namespace ringside::shard
