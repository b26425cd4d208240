#include "tests/e2e/multicluster/three_clusters.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/e2e/mdns/netns_helpers.h"

namespace ringside::multicluster_test {
namespace {

using namespace std::chrono_literals;
using mdns_test::InNetns;

constexpr char kToken[] = "mc-test-token";  // every sync<->sync and sidecar->sync token
constexpr e2e::SidecarPorts kBPorts = {.http = 3500, .grpc = 50001, .internal = 50002, .metrics = 9090};

// Caller k on host 1 gets ports clear of b's and of each other.
e2e::SidecarPorts CallerPorts(int k) {
  return {.http = static_cast<uint16_t>(3600 + k), .grpc = static_cast<uint16_t>(50100 + k),
          .internal = static_cast<uint16_t>(50200 + k), .metrics = static_cast<uint16_t>(9100 + k)};
}

bool UsesEtcd(const std::string& cluster) { return cluster != "south"; }

std::string EtcdEndpoint(const std::string& cluster) {
  return absl::StrCat(ClusterLab::address(cluster, 1), ":", kEtcdClientPort);
}

std::string SyncAddress(const std::string& cluster) {
  return absl::StrCat(ClusterLab::address(cluster, 1), ":", kSyncPort);
}

// The cluster's registry as a Configuration's nameResolution block, indented by `indent`.
std::string NameResolutionYaml(const std::string& cluster, const e2e::TempDir& dir, const std::string& indent) {
  if (UsesEtcd(cluster)) {
    return absl::StrCat(indent, "nameResolution:\n", indent, "  component: etcd\n", indent, "  configuration:\n",
                        indent, "    endpoints: [\"", EtcdEndpoint(cluster), "\"]\n", indent, "    leaseTTL: ",
                        kEtcdLeaseTtlSeconds, "s\n");
  }
  return absl::StrCat(indent, "nameResolution:\n", indent, "  component: sqlite\n", indent, "  configuration:\n",
                      indent, "    connectionString: ", dir.File("south-registry.db"), "\n", indent,
                      "    updateInterval: ", kSqliteUpdateIntervalSeconds, "s\n", indent, "    timeout: 1s\n");
}

std::string Tail(const std::unique_ptr<e2e::ChildProcess>& p, const std::string& what) {
  if (!p) return absl::StrCat("--- ", what, ": (not running)\n");
  return absl::StrCat("--- ", what, " (", p->log_path(), "):\n", p->LogTail(1500), "\n");
}

}  // namespace

int HostIndex(const std::string& cluster, int host) {
  int c = 0;
  while (c < 3 && LabClusters()[c] != cluster) ++c;
  return c * 2 + (host - 1);
}

std::string AppName(const std::string& cluster, int host) { return absl::StrCat(cluster, "-h", host); }

std::optional<std::chrono::milliseconds> WaitUntil(const std::function<bool()>& pred,
                                                   std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    if (pred()) return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (std::chrono::steady_clock::now() - start > timeout) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

int CallTally::answered_in(const std::string& cluster) const {
  int n = 0;
  for (const auto& [name, count] : answered_by)
    if (name.rfind(absl::StrCat(cluster, "-"), 0) == 0) n += count;
  return n;
}

std::string CallTally::Describe() const {
  std::vector<std::string> parts;
  for (const auto& [name, count] : answered_by) parts.push_back(absl::StrCat(name, ": ", count));
  std::string out = absl::StrCat(calls, " calls; ", absl::StrJoin(parts, ", "), parts.empty() ? "" : "; ",
                                 "failed: ", failures);
  for (const std::string& f : failure_samples) absl::StrAppend(&out, "\n  failure: ", f);
  return out;
}

ThreeClusters::~ThreeClusters() {
  // Children first (their destructors SIGKILL and reap), then the lab removes the namespaces.
  callers_.clear();
  extras_.clear();
  bs_.clear();
  apps_.clear();
  syncs_.clear();
  registries_.clear();
  lab_.reset();
}

absl::Status ThreeClusters::Start(const ThreeClustersOptions& options) {
  synchronizers_ = options.synchronizers;
  for (const char* bin : {"ringsided", "ringside-echo-app"})
    if (!e2e::BinaryExists(bin)) return absl::FailedPreconditionError(absl::StrCat(e2e::BinPath(bin), " is not built"));
  if (synchronizers_ && !e2e::BinaryExists("ringside-sync"))
    return absl::FailedPreconditionError(absl::StrCat(e2e::BinPath("ringside-sync"), " is not built"));
  auto lab = ClusterLab::Create();
  if (!lab.ok()) return lab.status();
  lab_ = *std::move(lab);
  for (const std::string& c : LabClusters())
    if (absl::Status s = StartRegistry(c); !s.ok()) return s;
  if (synchronizers_) {
    for (const std::string& c : LabClusters())
      if (absl::Status s = StartSync(c); !s.ok()) return s;
  }
  apps_.resize(6);
  for (const std::string& c : LabClusters()) {
    for (int h = 1; h <= 2; ++h) {
      if (absl::Status s = StartApp(c, h); !s.ok()) return s;
      auto b = StartSidecar(c, h, "b", "local-first", /*with_app=*/true, kBPorts);
      if (!b.ok()) return b.status();
      bs_.push_back(*std::move(b));
    }
  }
  std::vector<CallerSpec> callers = options.callers;
  if (callers.empty()) {
    for (const std::string& c : LabClusters()) callers.push_back({c, "a", "local-first"});
  }
  for (const CallerSpec& spec : callers) {
    auto caller = StartSidecar(spec.cluster, 1, spec.app_id, spec.strategy, /*with_app=*/false,
                               CallerPorts(next_caller_slot_++));
    if (!caller.ok()) return caller.status();
    callers_.push_back(*std::move(caller));
  }
  // Every caller must reach some `b` (external-only callers only once the synchronizers have
  // exchanged tables) before a test starts counting.
  for (const RunningSidecar& caller : callers_) {
    InNetns in(lab_->ns(caller.cluster, 1));
    if (!in.ok()) return absl::FailedPreconditionError(in.error());
    if (!e2e::WaitUntilInvocable(caller.ports.http, "b", 20s)) {
      return absl::DeadlineExceededError(absl::StrCat("caller ", caller.app_id, " in ", caller.cluster,
                                                      " never reached b within 20 s\n", Logs()));
    }
  }
  return absl::OkStatus();
}

absl::Status ThreeClusters::StartRegistry(const std::string& cluster) {
  if (!UsesEtcd(cluster)) return absl::OkStatus();  // south: the SQLite file, created by its first sidecar
  const std::string ns = lab_->ns(cluster, 1);
  const std::string data = dir_.File(absl::StrCat("etcd-", cluster));
  const std::string client = absl::StrCat("http://", EtcdEndpoint(cluster));
  // Peer port on loopback: a one-member cluster talks to nobody.
  const std::string peer = "http://127.0.0.1:2380";
  auto etcd = mdns_test::SpawnIn(ns,
                                 {"/usr/bin/etcd", "--name=" + std::string(cluster), "--data-dir=" + data,
                                  "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
                                  "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
                                  absl::StrCat("--initial-cluster=", cluster, "=", peer), "--logger=zap",
                                  "--log-level=warn"},
                                 {}, dir_.File(absl::StrCat("etcd-", cluster, ".log")));
  if (!etcd.ok()) return etcd.status();
  registries_[std::string(cluster)] = *std::move(etcd);
  // Ready when etcdctl (run in the same namespace) reports the member healthy.
  std::string last;
  auto ready = WaitUntil(
      [&] {
        mdns_test::ToolResult r =
            mdns_test::RunTool(ns, {"/usr/bin/etcdctl", "--endpoints=" + EtcdEndpoint(cluster), "--dial-timeout=1s",
                                    "endpoint", "health"},
                               {"ETCDCTL_API=3"}, dir_, 3s);
        last = r.output;
        return r.exit_code == 0;
      },
      20s);
  if (!ready) {
    return absl::DeadlineExceededError(absl::StrCat("etcd of ", cluster, " not healthy within 20 s: ", last,
                                                    Tail(registries_[std::string(cluster)], "etcd")));
  }
  return absl::OkStatus();
}

std::string ThreeClusters::SyncConfig(const std::string& cluster) {
  std::string yaml = absl::StrCat("cluster: ", cluster, "\nlisten: 0.0.0.0:", kSyncPort, "\nmetricsPort: ",
                                  kSyncMetricsPort, "\nsubscriberToken: ", kToken, "\nheartbeatInterval: ",
                                  kSyncHeartbeatMs, "ms\nexportTtl: ", kSyncExportTtlMs, "ms\n",
                                  NameResolutionYaml(cluster, dir_, ""), "peers:\n");
  for (const std::string& peer : LabClusters()) {
    if (peer == cluster) continue;
    absl::StrAppend(&yaml, "  - cluster: ", peer, "\n    addresses: [\"", SyncAddress(peer), "\"]\n    token: ",
                    kToken, "\n");
  }
  const std::string path = dir_.File(absl::StrCat("sync-", cluster, ".yaml"));
  std::ofstream(path) << yaml;
  return path;
}

absl::Status ThreeClusters::StartSync(const std::string& cluster) {
  const std::string ns = lab_->ns(cluster, 1);
  auto sync = mdns_test::SpawnIn(ns, {e2e::BinPath("ringside-sync"), "--config", SyncConfig(cluster)}, {},
                                 dir_.File(absl::StrCat("sync-", cluster, ".log")));
  if (!sync.ok()) return sync.status();
  auto& slot = syncs_[std::string(cluster)];
  slot = *std::move(sync);
  InNetns in(ns);
  if (!in.ok()) return absl::FailedPreconditionError(in.error());
  if (!e2e::WaitForListening(kSyncPort, 15s)) {
    return absl::DeadlineExceededError(absl::StrCat("ringside-sync of ", cluster, " not listening on ", kSyncPort,
                                                    " within 15 s\n", Tail(slot, "ringside-sync")));
  }
  return absl::OkStatus();
}

absl::Status ThreeClusters::StartApp(const std::string& cluster, int host) {
  const std::string ns = lab_->ns(cluster, host);
  auto app = mdns_test::SpawnIn(ns,
                                {e2e::BinPath("ringside-echo-app"), "--port", absl::StrCat(kAppPort), "--name",
                                 AppName(cluster, host)},
                                {}, dir_.File(absl::StrCat("app-", AppName(cluster, host), ".log")));
  if (!app.ok()) return app.status();
  auto& slot = apps_[HostIndex(cluster, host)];
  slot = *std::move(app);
  InNetns in(ns);
  if (!in.ok()) return absl::FailedPreconditionError(in.error());
  if (!e2e::WaitForListening(kAppPort, 10s))
    return absl::DeadlineExceededError(absl::StrCat("echo app ", AppName(cluster, host), " not listening\n",
                                                    Tail(slot, "app")));
  return absl::OkStatus();
}

std::string ThreeClusters::SidecarConfig(const std::string& cluster, const std::string& strategy) {
  const std::string path = dir_.File(absl::StrCat("config-", cluster, "-", strategy, ".yaml"));
  std::string yaml = absl::StrCat("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: ringside}\n",
                                  "spec:\n", NameResolutionYaml(cluster, dir_, "  "),
                                  "  ringside:\n    multiCluster:\n      cluster: ", cluster, "\n");
  if (synchronizers_) {
    absl::StrAppend(&yaml, "      synchronizers: [\"", SyncAddress(cluster), "\"]\n      token: ", kToken, "\n");
  }
  absl::StrAppend(&yaml, "      strategy: ", strategy, "\n");
  std::ofstream(path) << yaml;
  return path;
}

absl::StatusOr<RunningSidecar> ThreeClusters::StartSidecar(const std::string& cluster, int host,
                                                           const std::string& app_id, const std::string& strategy,
                                                           bool with_app, e2e::SidecarPorts ports) {
  const std::string ns = lab_->ns(cluster, host);
  std::vector<std::string> argv = {e2e::BinPath("ringsided"),
                                   "--app-id", std::string(app_id),
                                   "--dapr-http-port", absl::StrCat(ports.http),
                                   "--dapr-grpc-port", absl::StrCat(ports.grpc),
                                   "--dapr-internal-grpc-port", absl::StrCat(ports.internal),
                                   "--metrics-port", absl::StrCat(ports.metrics),
                                   "--shards", e2e::E2eShards(),
                                   "--config", SidecarConfig(cluster, strategy)};
  if (with_app) argv.insert(argv.end(), {"--app-port", absl::StrCat(kAppPort), "--app-protocol", "http"});
  // The address other hosts (and, through the synchronizers, other clusters) dial.
  auto process = mdns_test::SpawnIn(ns, argv, {"DAPR_HOST_IP=" + ClusterLab::address(cluster, host)},
                                    dir_.File(absl::StrCat("ringsided-", cluster, host, "-", app_id, ".log")));
  if (!process.ok()) return process.status();
  RunningSidecar sidecar{std::string(cluster), host, std::string(app_id), ports, *std::move(process)};
  InNetns in(ns);
  if (!in.ok()) return absl::FailedPreconditionError(in.error());
  if (!e2e::WaitForHealthz(ports.http, 15s)) {
    return absl::DeadlineExceededError(absl::StrCat("ringsided ", app_id, " in ", ns, " not healthy within 15 s\n",
                                                    Tail(sidecar.process, "ringsided")));
  }
  return sidecar;
}

RunningSidecar& ThreeClusters::caller(const std::string& cluster, const std::string& app_id) {
  for (RunningSidecar& c : callers_)
    if (c.cluster == cluster && c.app_id == app_id) return c;
  std::abort();  // a test asked for a caller it did not start
}

RunningSidecar& ThreeClusters::b(const std::string& cluster, int host) { return bs_.at(HostIndex(cluster, host)); }

namespace {

// One call through `port`, recorded in `tally`.
void CallOnce(uint16_t port, const std::string& target, const std::string& path, CallTally* tally) {
  ++tally->calls;
  auto r = e2e::Invoke(port, "POST", target, path, "", {}, 5s);
  const auto now = std::chrono::steady_clock::now();
  if (r.ok() && r->status() == 200) {
    ++tally->answered_by[r->body];
    tally->timeline.emplace_back(now, r->body);
    tally->headers.clear();
    for (const auto& [k, v] : r->headers) tally->headers[absl::AsciiStrToLower(k)] = v;
    return;
  }
  ++tally->failures;
  tally->timeline.emplace_back(now, "");
  if (tally->failure_samples.size() < 5)
    tally->failure_samples.push_back(r.ok() ? absl::StrCat(r->status(), " ", r->body) : std::string(r.status().message()));
}

}  // namespace

CallTally ThreeClusters::Call(const RunningSidecar& caller, int n, const std::string& path,
                              const std::string& target) {
  CallTally tally;
  InNetns in(lab_->ns(caller.cluster, caller.host));
  if (!in.ok()) {
    tally.failures = n;
    tally.failure_samples.push_back(in.error());
    return tally;
  }
  for (int i = 0; i < n; ++i) CallOnce(caller.ports.http, target, path, &tally);
  return tally;
}

CallTally ThreeClusters::CallUntil(const RunningSidecar& caller, const std::atomic<bool>& stop, int limit) {
  CallTally tally;
  InNetns in(lab_->ns(caller.cluster, caller.host));
  if (!in.ok()) {
    tally.failures = 1;
    tally.failure_samples.push_back(in.error());
    return tally;
  }
  while (!stop.load() && tally.calls < limit) CallOnce(caller.ports.http, "b", "whoami", &tally);
  return tally;
}

int ThreeClusters::AppServed(const std::string& cluster, int host) {
  InNetns in(lab_->ns(cluster, host));
  if (!in.ok()) return -1;
  e2e::RequestSpec spec;
  spec.method = "GET";
  spec.target = "/served";
  auto r = e2e::Send(kAppPort, spec, 5s);
  int n = -1;
  if (!r.ok() || r->status() != 200 || !absl::SimpleAtoi(r->body, &n)) return -1;
  return n;
}

void ThreeClusters::KillB(const std::string& cluster, int host) {
  RunningSidecar& s = b(cluster, host);
  if (s.process) s.process->Signal(SIGKILL);
  if (s.process) (void)s.process->WaitExit(5s);
}

void ThreeClusters::KillCluster(const std::string& cluster) {
  auto kill = [](std::unique_ptr<e2e::ChildProcess>& p) {
    if (!p) return;
    p->Signal(SIGKILL);
    (void)p->WaitExit(5s);
  };
  for (RunningSidecar& s : bs_)
    if (s.cluster == cluster) kill(s.process);
  for (RunningSidecar& s : callers_)
    if (s.cluster == cluster) kill(s.process);
  for (RunningSidecar& s : extras_)
    if (s.cluster == cluster) kill(s.process);
  for (int h = 1; h <= 2; ++h) kill(apps_[HostIndex(cluster, h)]);
  if (auto it = syncs_.find(std::string(cluster)); it != syncs_.end()) kill(it->second);
  if (auto it = registries_.find(std::string(cluster)); it != registries_.end()) kill(it->second);
}

absl::Status ThreeClusters::RestartSync(const std::string& cluster) {
  auto it = syncs_.find(std::string(cluster));
  if (it == syncs_.end() || !it->second) return absl::FailedPreconditionError("no synchronizer to restart");
  it->second->Signal(SIGKILL);
  (void)it->second->WaitExit(5s);
  // Keep the killed process's log beside the new one.
  std::error_code ignored;
  std::filesystem::rename(it->second->log_path(), it->second->log_path() + ".before-restart", ignored);
  return StartSync(cluster);
}

absl::Status ThreeClusters::StartExtraSidecar(const std::string& cluster, int host, const std::string& app_id) {
  e2e::SidecarPorts ports = CallerPorts(50 + static_cast<int>(extras_.size()));
  auto s = StartSidecar(cluster, host, app_id, "local-first", /*with_app=*/true, ports);
  if (!s.ok()) return s.status();
  extras_.push_back(*std::move(s));
  return absl::OkStatus();
}

int ThreeClusters::EtcdRegistrations(const std::string& cluster, const std::string& app_id) {
  // The etcd resolver's keys: <prefix>/<namespace>/<app id>/<address> (docs/resolvers/etcd.md).
  mdns_test::ToolResult r = mdns_test::RunTool(
      lab_->ns(cluster, 1),
      {"/usr/bin/etcdctl", "--endpoints=" + EtcdEndpoint(cluster), "--dial-timeout=1s", "get", "--prefix",
       "--keys-only", absl::StrCat("/ringside/instances/default/", app_id, "/")},
      {"ETCDCTL_API=3"}, dir_, 3s);
  if (r.exit_code != 0) return -1;
  int keys = 0;
  for (absl::string_view line : absl::StrSplit(r.output, '\n'))
    if (absl::StartsWith(line, "/ringside/")) ++keys;
  return keys;
}

std::optional<double> ThreeClusters::SyncMetric(const std::string& cluster, const std::string& name,
                                                const std::string& label) {
  InNetns in(lab_->ns(cluster, 1));
  if (!in.ok()) return std::nullopt;
  e2e::RequestSpec spec;
  spec.target = "/metrics";
  spec.content_length = false;
  auto r = e2e::Send(kSyncMetricsPort, spec, 5s);
  if (!r.ok() || r->status() != 200) return std::nullopt;
  // A cluster that has expired has no sample at all: that is 0 instances, not "unknown".
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || line.empty() || (line[0] != ' ' && line[0] != '{')) continue;
    const size_t end = line[0] == '{' ? line.find('}') : 0;
    if (end == absl::string_view::npos) continue;
    if (!label.empty() && line.substr(0, end).find(label) == absl::string_view::npos) continue;
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(end + 1));
    value = value.substr(0, value.find(' '));  // drop an optional timestamp
    double v = 0;
    if (absl::SimpleAtod(value, &v)) sum += v;
  }
  return sum;
}

std::optional<double> ThreeClusters::SidecarMetric(const RunningSidecar& sidecar, const std::string& name) {
  InNetns in(lab_->ns(sidecar.cluster, sidecar.host));
  if (!in.ok()) return std::nullopt;
  return e2e::ReadMetric(sidecar.ports.metrics, name);
}

std::string ThreeClusters::Logs() const {
  std::string out;
  for (const auto& [c, p] : registries_) absl::StrAppend(&out, Tail(p, absl::StrCat("etcd ", c)));
  for (const auto& [c, p] : syncs_) absl::StrAppend(&out, Tail(p, absl::StrCat("ringside-sync ", c)));
  for (const RunningSidecar& s : bs_)
    absl::StrAppend(&out, Tail(s.process, absl::StrCat("b ", s.cluster, s.host)));
  for (const RunningSidecar& s : callers_)
    absl::StrAppend(&out, Tail(s.process, absl::StrCat("caller ", s.app_id, " ", s.cluster)));
  for (const RunningSidecar& s : extras_)
    absl::StrAppend(&out, Tail(s.process, absl::StrCat(s.app_id, " ", s.cluster, s.host)));
  return out;
}

}  // namespace ringside::multicluster_test
