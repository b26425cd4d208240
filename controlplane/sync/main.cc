// ringside-sync: the multi-cluster synchronizer (docs/ringside-sync.md). Exit codes: 0 after
// SIGTERM/SIGINT, 1 when the registry or a port cannot be opened, 2 for a bad flag or config.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controlplane/config/options.h"
#include "controlplane/metrics/metrics_server.h"
#include "controlplane/resolvers/resolver.h"
#include "controlplane/sync/exporter.h"
#include "controlplane/sync/registry_reader.h"
#include "controlplane/sync/sync_config.h"
#include "controlplane/sync/sync_log.h"
#include "controlplane/sync/sync_service.h"
#include "controlplane/sync/sync_state.h"

namespace {

using ringside::sync::LogLevel;
using ringside::sync::log;

std::string random_epoch() {
  std::random_device rd;
  return absl::StrFormat("%08x%08x", rd(), rd());
}

// How often the main thread expires silent peers; a tenth of the TTL keeps expiry within 10%.
std::chrono::milliseconds expiry_tick(std::chrono::milliseconds ttl) {
  return std::clamp(ttl / 10, std::chrono::milliseconds(10), std::chrono::milliseconds(500));
}

int run(const ringside::sync::SyncConfig& cfg) {
  ringside::sync::set_log_level(cfg.log_level);
  const std::string epoch = random_epoch();
  ringside::sync::SyncState state(cfg.cluster, epoch, cfg.export_ttl,
                                  {.max_subscribers = cfg.max_subscribers, .queue_updates = cfg.subscriber_queue});

  absl::StatusOr<std::unique_ptr<ringside::resolvers::Resolver>> resolver =
      ringside::resolvers::make_resolver(cfg.registry);
  if (!resolver.ok()) {
    std::fprintf(stderr, "ringside-sync: %s\n", std::string(resolver.status().message()).c_str());
    return 2;
  }
  ringside::sync::RegistryReader reader(*std::move(resolver), &state, cfg.registry_refresh);
  if (absl::Status s = reader.start(); !s.ok()) {
    std::fprintf(stderr, "ringside-sync: cannot read the registry (nameResolution, component %s): %s\n",
                 cfg.registry.component.c_str(), std::string(s.message()).c_str());
    return 1;
  }

  std::map<std::string, std::string> peer_tokens;
  for (const auto& p : cfg.peers) peer_tokens[p.cluster] = p.token;
  ringside::sync::SyncService service(&state, peer_tokens, cfg.subscriber_token);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(cfg.listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&service);
  // A whole cluster's table travels in one ExportRequest: allow large clusters (gRPC's default
  // is 4 MiB, ~50k instances).
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  // Dead subscribers and importers are noticed by keepalive pings, not only at the next write.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "ringside-sync: listen: cannot listen on %s (in use or not a local address)\n",
                 cfg.listen.c_str());
    reader.stop();
    return 1;
  }

  ringside::metrics::MetricsServer metrics([&state] { return state.metrics_text(); });
  metrics.serve_healthz([&state] { return state.healthy(); });
  if (cfg.metrics_port >= 0) {
    if (absl::Status s = metrics.start(cfg.metrics_address, static_cast<uint16_t>(cfg.metrics_port)); !s.ok()) {
      std::fprintf(stderr, "ringside-sync: metricsPort: %s\n", std::string(s.message()).c_str());
      server->Shutdown();
      reader.stop();
      return 1;
    }
  }

  std::set<std::string> peer_names;
  for (const auto& p : cfg.peers) peer_names.insert(p.cluster);
  state.begin_warmup(peer_names, std::chrono::steady_clock::now() + cfg.export_ttl);
  std::vector<std::unique_ptr<ringside::sync::Exporter>> exporters;
  for (const auto& p : cfg.peers) {
    exporters.push_back(std::make_unique<ringside::sync::Exporter>(
        p, &state, epoch, ringside::sync::ExportTiming{.heartbeat = cfg.heartbeat}));
    exporters.back()->start();
  }
  log(LogLevel::kInfo,
      absl::StrCat("cluster \"", cfg.cluster, "\" listening on ", cfg.listen, " (port ", bound_port, "), metrics port ",
                   cfg.metrics_port >= 0 ? absl::StrCat(metrics.port()) : std::string("off"), ", registry ",
                   cfg.registry.component, ", ", cfg.peers.size(), " peer(s), epoch ", epoch));

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  const auto tick = expiry_tick(cfg.export_ttl);
  timespec wait{.tv_sec = static_cast<time_t>(tick.count() / 1000),
                .tv_nsec = static_cast<long>((tick.count() % 1000) * 1000000)};
  for (;;) {
    int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) {
      log(LogLevel::kInfo, absl::StrCat("signal ", sig, ": shutting down"));
      break;
    }
    state.expire(std::chrono::steady_clock::now());
  }
  state.shutdown();
  for (auto& e : exporters) e->stop();
  // Subscribe calls end at once with UNAVAILABLE (state.shutdown()); Export calls sit in Read
  // and are cancelled at this deadline, so peers notice quickly and start their TTL.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  server->Wait();
  reader.stop();
  metrics.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so only sigtimedwait() sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<ringside::sync::SyncCommand> cmd = ringside::sync::parse_sync_command(argc, argv);
  if (!cmd.ok()) {
    std::fprintf(stderr, "ringside-sync: %s\n", std::string(cmd.status().message()).c_str());
    return 2;
  }
  if (cmd->help) {
    std::fputs(ringside::sync::sync_usage().c_str(), stdout);
    return 0;
  }
  if (cmd->version) {
    std::printf("ringside-sync %s\n", std::string(ringside::config::ringside_version()).c_str());
    return 0;
  }
  return run(cmd->config);
}
