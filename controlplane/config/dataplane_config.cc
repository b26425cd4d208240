#include "controlplane/config/dataplane_config.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/value_parsers.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::config {
namespace {

// A CPU list written as "0-1,4" or as a YAML list of integers.
absl::StatusOr<std::vector<int>> cpu_list_at(const YAML::Node& n, std::string_view path) {
  std::vector<int> cpus;
  if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      auto v = int_at(n[i], absl::StrCat(to_absl(path), "[", i, "]"), 0, 65535);
      if (!v.ok()) return v.status();
      for (int c : cpus)
        if (c == *v) return path_error(path, absl::StrCat("CPU ", *v, " is listed twice"));
      cpus.push_back(static_cast<int>(*v));
    }
  } else {
    absl::StatusOr<std::string> text = scalar(n, path);
    if (!text.ok()) return text.status();
    auto list = parse_cpu_list(*text);
    if (!list) return path_error(path, absl::StrCat(quoted(*text), " is not a CPU list (e.g. 0-1 or 0,2,4-5)"));
    cpus = *std::move(list);
  }
  if (cpus.empty()) return path_error(path, "must name at least one CPU");
  return cpus;
}

absl::Status parse_sqpoll(const YAML::Node& n, std::string_view path, DataplaneConfig* out) {
  if (n.IsScalar()) {  // `sqpoll: true`, the earlier spelling
    auto v = bool_at(n, path);
    if (!v.ok()) return v.status();
    out->sqpoll = *v;
    return absl::OkStatus();
  }
  if (!n.IsMap()) return path_error(path, "must be a map (enabled, cpus, shared, idleMs) or a boolean");
  if (auto s = known_keys(n, path, {"enabled", "cpus", "shared", "idleMs"}); !s.ok()) return s;
  // A sqpoll map without `enabled` means the author wants it on.
  out->sqpoll = true;
  if (YAML::Node e = n["enabled"]) {
    auto v = bool_at(e, join_path(path, "enabled"));
    if (!v.ok()) return v.status();
    out->sqpoll = *v;
  }
  if (YAML::Node c = n["cpus"]) {
    auto v = cpu_list_at(c, join_path(path, "cpus"));
    if (!v.ok()) return v.status();
    out->sqpoll_cpus = *std::move(v);
  }
  if (YAML::Node s = n["shared"]) {
    auto v = bool_at(s, join_path(path, "shared"));
    if (!v.ok()) return v.status();
    out->sqpoll_shared = *v;
  }
  if (YAML::Node i = n["idleMs"]) {
    auto v = int_at(i, join_path(path, "idleMs"), 1, 60000);
    if (!v.ok()) return v.status();
    out->sqpoll_idle_ms = static_cast<uint32_t>(*v);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status parse_dataplane(const YAML::Node& dp, std::string_view path, DataplaneConfig* out) {
  *out = DataplaneConfig();
  if (!dp || dp.IsNull()) return absl::OkStatus();
  if (!dp.IsMap()) return path_error(path, "must be a map");
  if (auto s = known_keys(dp, path,
                          {"cpus", "shards", "sqpoll", "sqpollCpu", "busyPollUs", "ringEntries", "bufferSize",
                           "bufferCount", "peerCallTimeout"});
      !s.ok())
    return s;
  auto at = [&](const char* key) { return join_path(path, key); };
  if (YAML::Node n = dp["ringEntries"]) {
    auto v = int_at(n, at("ringEntries"), 8, 32768);
    if (!v.ok()) return v.status();
    out->ring_entries = static_cast<uint32_t>(*v);
  }
  for (const char* key : {"bufferSize", "bufferCount"}) {
    if (YAML::Node n = dp[key]) {
      absl::StatusOr<std::string> text = scalar(n, at(key));
      if (!text.ok()) return text.status();
      auto q = parse_quantity(*text);
      if (!q || *q == 0 || *q > UINT32_MAX)
        return path_error(at(key), absl::StrCat(quoted(*text), " is not a positive count"));
      (std::string_view(key) == "bufferSize" ? out->buffer_size : out->buffer_count) = static_cast<uint32_t>(*q);
    }
  }
  if (YAML::Node n = dp["sqpoll"]) {
    if (auto s = parse_sqpoll(n, at("sqpoll"), out); !s.ok()) return s;
  }
  if (YAML::Node n = dp["sqpollCpu"]) {
    auto v = int_at(n, at("sqpollCpu"), -1, 65535);
    if (!v.ok()) return v.status();
    out->sqpoll_cpu = static_cast<int>(*v);
  }
  if (YAML::Node n = dp["busyPollUs"]) {
    auto v = int_at(n, at("busyPollUs"), 0, 1000000);
    if (!v.ok()) return v.status();
    out->busy_poll_us = static_cast<uint32_t>(*v);
  }
  if (YAML::Node n = dp["peerCallTimeout"]) {
    auto d = duration_at(n, at("peerCallTimeout"));
    if (!d.ok()) return d.status();
    if (d->count() < 0) return path_error(at("peerCallTimeout"), "must not be negative");
    out->peer_call_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  if (YAML::Node n = dp["shards"]) {
    auto v = int_at(n, at("shards"), 1, 4096);
    if (!v.ok()) return v.status();
    out->shards = static_cast<int>(*v);
  }
  if (YAML::Node n = dp["cpus"]) {
    auto v = cpu_list_at(n, at("cpus"));
    if (!v.ok()) return v.status();
    out->cpus = *std::move(v);
  }
  return absl::OkStatus();
}

absl::Status parse_dataplane_yaml(std::string_view yaml_text, DataplaneConfig* out) {
  try {
    return parse_dataplane(YAML::Load(std::string(yaml_text)), "spec.ringside.dataplane", out);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", e.what()));
  }
}

absl::Status apply_dataplane_config(const DataplaneConfig& dp, Options* o) {
  if (dp.ring_entries && !o->flag_given("ring-entries")) o->ring_entries = *dp.ring_entries;
  if (dp.buffer_size && !o->flag_given("buffer-size")) o->buffer_size = *dp.buffer_size;
  if (dp.buffer_count && !o->flag_given("buffer-count")) o->buffer_count = *dp.buffer_count;
  if (dp.sqpoll && !o->flag_given("sqpoll")) o->sqpoll = *dp.sqpoll;
  if (dp.sqpoll_cpu && !o->flag_given("sqpoll-cpu")) o->sqpoll_cpu = *dp.sqpoll_cpu;
  if (dp.sqpoll_cpus && !o->flag_given("sqpoll-cpus")) o->sqpoll_cpus = *dp.sqpoll_cpus;
  if (dp.sqpoll_shared && !o->flag_given("sqpoll-shared")) o->sqpoll_shared = *dp.sqpoll_shared;
  if (dp.sqpoll_idle_ms && !o->flag_given("sqpoll-idle-ms")) o->sqpoll_idle_ms = *dp.sqpoll_idle_ms;
  if (dp.busy_poll_us && !o->flag_given("busy-poll-us")) o->busy_poll_us = *dp.busy_poll_us;
  if (dp.peer_call_timeout && !o->flag_given("peer-call-timeout")) o->peer_call_timeout = *dp.peer_call_timeout;
  if ((dp.cpus || dp.shards) && !o->flag_given("cpus") && !o->flag_given("shards")) {
    std::string problem = resolve_shard_cpus(dp.cpus.value_or(std::vector<int>()), dp.shards.value_or(0),
                                             allowed_cpus(), "spec.ringside.dataplane.cpus",
                                             "spec.ringside.dataplane.shards", o);
    if (!problem.empty()) return absl::InvalidArgumentError(problem);
  }
  // The poller CPUs must fit the final shard count: one per shard, or exactly one when shared.
  if (!o->sqpoll_cpus.empty()) {
    const std::string where = o->flag_given("sqpoll-cpus") ? "--sqpoll-cpus" : "spec.ringside.dataplane.sqpoll.cpus";
    const size_t want = o->sqpoll_shared ? 1 : static_cast<size_t>(o->shards);
    if (o->shards > 0 && o->sqpoll_cpus.size() != want)
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": names ", o->sqpoll_cpus.size(), " CPU(s) but ",
          o->sqpoll_shared ? "a shared poller needs exactly 1" : absl::StrCat("there are ", o->shards, " shards (one poller CPU per shard)")));
  }
  return absl::OkStatus();
}

}  // namespace ringside::config
