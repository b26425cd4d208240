// Parser of spec.ringside.dataplane (core pinning, io_uring and busy-poll knobs) and its merge
// into Options. Precedence: a flag given on the command line wins over the file; the file wins
// over the built-in defaults (docs/deploy.md).
//
//   spec:
//     ringside:
//       dataplane:
//         cpus: 2-3                 # one shard per CPU ("0-1", "0,2" or a YAML list)
//         shards: 2                 # shard count when cpus is not given
//         sqpoll:
//           enabled: true
//           cpus: [4, 5]            # one poller CPU per shard (or one CPU with shared: true)
//           shared: false           # true: one poller for all shards (IORING_SETUP_ATTACH_WQ)
//           idleMs: 100             # poller sleeps after this long without submissions
//         busyPollUs: 50            # spin this long for completions before sleeping; 0 = off
//         ringEntries: 1024
//         bufferSize: 16Ki
//         bufferCount: 1024
//
// `sqpoll: true|false` and `sqpollCpu: N` (the earlier spelling) are still accepted.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "controlplane/config/options.h"
#include "yaml-cpp/yaml.h"

namespace ringside::config {

// spec.ringside.dataplane: every field unset unless the file names it (then it fills what no
// flag set).
struct DataplaneConfig {
  std::optional<uint32_t> ring_entries;            // ringEntries
  std::optional<uint32_t> buffer_size;             // bufferSize (bytes; quantity syntax allowed)
  std::optional<uint32_t> buffer_count;            // bufferCount
  std::optional<bool> sqpoll;                      // sqpoll.enabled (or `sqpoll: bool`)
  std::optional<int> sqpoll_cpu;                   // sqpollCpu: one CPU for every poller (legacy)
  std::optional<std::vector<int>> sqpoll_cpus;     // sqpoll.cpus: poller CPU per shard
  std::optional<bool> sqpoll_shared;               // sqpoll.shared: one poller for all shards
  std::optional<uint32_t> sqpoll_idle_ms;          // sqpoll.idleMs
  std::optional<uint32_t> busy_poll_us;            // busyPollUs (0 = off)
  std::optional<std::vector<int>> cpus;            // cpus ("0-1" or a YAML list)
  std::optional<int> shards;                       // shards
  std::optional<std::chrono::milliseconds> peer_call_timeout;  // peerCallTimeout (0 = none)
};

// Parses the node at `path` (absent/null = all unset) into *out. Errors name the YAML path,
// e.g. `spec.ringside.dataplane.sqpoll.idleMs: "x" is not an integer`; unknown keys are refused.
absl::Status parse_dataplane(const YAML::Node& node, std::string_view path, DataplaneConfig* out);

// Same from YAML text (fuzz target and tests): the text is the dataplane map itself.
absl::Status parse_dataplane_yaml(std::string_view yaml_text, DataplaneConfig* out);

// Fills what no flag set from the file (flags win), then checks the SQPOLL layout against the
// final shard count (errors name the flag or YAML path that is wrong).
absl::Status apply_dataplane_config(const DataplaneConfig& dataplane, Options* options);

}  // namespace ringside::config
