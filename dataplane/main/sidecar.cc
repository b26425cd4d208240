#include "dataplane/main/sidecar.h"
#include "dataplane/main/stage_metrics_text.h"  // issue 11 metrics
#include "dataplane/runtime/dapr_metrics_text.h"  // issue 11: daprd's dapr_* series

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controlplane/apphealth/app_health_monitor.h"  // issue 10: app health checks
#include "controlplane/apphealth/grpc_probe.h"
#include "controlplane/apphealth/http_probe.h"
#include "controlplane/config/configuration.h"
#include "controlplane/control_plane.h"
#include "controlplane/dns/ares_host_resolver.h"
#include "controlplane/dns/dns_options.h"
#include "yaml-cpp/yaml.h"
#include "controlplane/metrics/metrics_server.h"
#include "absl/strings/str_join.h"
#include "controlplane/resolvers/external/sync_subscriber.h"
#include "controlplane/resolvers/registered_address.h"
#include "controlplane/resolvers/resolver.h"
#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/ingress/grpc/invoke_service.h"
#include "dataplane/callee/app_concurrency.h"
#include "dataplane/mapping/access_control.h"
#include "controlplane/tls/credentials_watcher.h"
#include "dataplane/tls/credential_store.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/resiliency/circuit_breakers.h"   // issue 10 (res)
#include "dataplane/resiliency/compile_policies.h"   // issue 10 (res)
#include "dataplane/io/socket.h"
#include "dataplane/main/shard.h"
#include "dataplane/main/thread_layout.h"

namespace ringside {
namespace {

constexpr const char* kVersion = "ringside-0.1.0";

void log_line(const std::string& s) { std::fprintf(stderr, "ringsided: %s\n", s.c_str()); }

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out;
}

// GET /v1.0/metadata (spec §9): static for the life of the process.
std::string metadata_json(const config::Options& o) {
  std::string app;
  if (o.app_port) {
    app = absl::StrFormat(
        ",\"appConnectionProperties\":{\"port\":%d,\"protocol\":\"%s\",\"channelAddress\":\"%s\","
        "\"maxConcurrency\":%d",
        *o.app_port, json_escape(o.app_protocol), json_escape(o.app_channel_address),
        o.app_max_concurrency < 0 ? 0 : o.app_max_concurrency);
    if (o.enable_app_health_check) {
      app += absl::StrFormat(
          ",\"health\":{\"healthCheckPath\":\"%s\",\"healthProbeInterval\":\"%ds\","
          "\"healthProbeTimeout\":\"%dms\",\"healthThreshold\":%d}",
          json_escape(o.app_health_check_path),
          static_cast<int>(o.app_health_probe_interval.count() / 1000),
          static_cast<int>(o.app_health_probe_timeout.count()), o.app_health_threshold);
    }
    app += "}";
  }
  return absl::StrFormat(
      "{\"id\":\"%s\",\"runtimeVersion\":\"%s\",\"enabledFeatures\":[],\"components\":[],"
      "\"extended\":{\"daprRuntimeVersion\":\"%s\"}%s,"
      "\"actorRuntime\":{\"runtimeStatus\":\"DISABLED\",\"activeActors\":[],\"hostReady\":false,"
      "\"placement\":\"\"}}",
      json_escape(o.app_id), kVersion, kVersion, app);
}

// GetMetadata on the gRPC API (spec §9): the same facts as the JSON above, encoded once here.
std::string grpc_metadata_response(const config::Options& o) {
  invoke::MetadataInfo m;
  m.app_id = o.app_id;
  m.runtime_version = kVersion;
  if (o.app_port) {
    m.has_app = true;
    m.app_port = *o.app_port;
    m.app_protocol = o.app_protocol;
    m.channel_address = o.app_channel_address;
    m.max_concurrency = o.app_max_concurrency < 0 ? 0 : o.app_max_concurrency;
    if (o.enable_app_health_check) {
      m.has_health = true;
      m.health_check_path = o.app_health_check_path;
      m.health_probe_interval =
          absl::StrFormat("%ds", static_cast<int>(o.app_health_probe_interval.count() / 1000));
      m.health_probe_timeout =
          absl::StrFormat("%dms", static_cast<int>(o.app_health_probe_timeout.count()));
      m.health_threshold = o.app_health_threshold;
    }
  }
  return invoke::encode_get_metadata_response(m);
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

struct ShardCountersArray {
  std::unique_ptr<shard::ShardCounters[]> items;
  int n = 0;
};

std::string render_metrics(const ShardCountersArray& c, const std::string& app_id) {
  struct Metric {
    const char* name;
    const char* help;
    const char* type;
    std::atomic<uint64_t> shard::ShardCounters::*field;
  };
  static const Metric kMetrics[] = {
      {"ringside_http_requests_total", "HTTP API requests answered", "counter", &shard::ShardCounters::http_requests},
      {"ringside_invoke_requests_total", "Invocations received on the HTTP API", "counter", &shard::ShardCounters::invoke_requests},
      {"ringside_invoke_streamed_total", "Invocations sent as CallLocalStream (large or chunked bodies)", "counter", &shard::ShardCounters::invoke_streamed},
      {"ringside_invoke_errors_total", "Invocations answered with a Dapr error", "counter", &shard::ShardCounters::invoke_errors},
      {"ringside_peer_calls_total", "CallLocal calls sent to peer sidecars (incl. retries)", "counter", &shard::ShardCounters::peer_calls},
      {"ringside_peer_retries_total", "Built-in retries of CallLocal", "counter", &shard::ShardCounters::peer_retries},
      {"ringside_lookups_requested_total", "App ids a shard asked the control plane to look up (the table had no answer)", "counter", &shard::ShardCounters::lookups_requested},
      {"ringside_calls_parked_total", "Calls that waited for a lookup of their app id", "counter", &shard::ShardCounters::calls_parked},
      {"ringside_lb_ejections_total", "Peer instances ejected by outlier detection (consecutive failures)", "counter", &shard::ShardCounters::lb_ejections},
      {"ringside_lb_panic_picks_total", "Picks made with every instance ejected or in dial back-off (all used)", "counter", &shard::ShardCounters::lb_panic_picks},
      {"ringside_lb_skipped_instances_total", "Ejected or backing-off instances passed over by a pick", "counter", &shard::ShardCounters::lb_skipped_instances},
      {"ringside_lb_fast_retries_total", "Built-in retries sent without the 1 s wait (another usable instance existed)", "counter", &shard::ShardCounters::lb_fast_retries},
      {"ringside_cluster_picks_local_total", "Peer picks (calls and retries) of an instance in our own cluster", "counter", &shard::ShardCounters::cluster_picks_local},
      {"ringside_cluster_picks_external_total", "Peer picks (calls and retries) of an instance in another cluster (cluster strategies)", "counter", &shard::ShardCounters::cluster_picks_external},
      {"ringside_calllocal_served_total", "CallLocal calls served on the internal port", "counter", &shard::ShardCounters::calllocal_served},
      {"ringside_app_calls_total", "Requests sent to the app", "counter", &shard::ShardCounters::app_calls},
      {"ringside_app_errors_total", "App calls that failed in transport", "counter", &shard::ShardCounters::app_errors},
      {"ringside_app_connections", "Open (or dialling) connections to the app, per shard's pool", "gauge", &shard::ShardCounters::app_connections},
      {"ringside_app_calls_waiting", "Calls waiting in the shard's --app-max-concurrency queue", "gauge", &shard::ShardCounters::app_calls_waiting},
      {"ringside_connections_open", "Open TCP connections", "gauge", &shard::ShardCounters::connections_open},
      // Issue 10: limits (docs/security.md).
      {"ringside_http_read_timeouts_total", "HTTP API requests whose head or body came too slowly (408, closed)", "counter", &shard::ShardCounters::http_read_timeouts},
      {"ringside_http_idle_closed_total", "HTTP API keep-alive connections closed after --http-idle-timeout", "counter", &shard::ShardCounters::http_idle_closed},
      {"ringside_grpc_read_timeouts_total", "gRPC-port connections closed because the preface or a header block came too slowly (--http-header-timeout)", "counter", &shard::ShardCounters::grpc_read_timeouts},
      {"ringside_grpc_idle_closed_total", "gRPC-port connections sent GOAWAY after --http-idle-timeout with no call and no frame", "counter", &shard::ShardCounters::grpc_idle_closed},
      {"ringside_connections_refused_total", "Connections refused at once because the shard had --max-connections", "counter", &shard::ShardCounters::connections_refused},
      {"ringside_tls_handshakes_total", "mTLS handshakes completed with the peer verified (internal port and calls to peers)", "counter", &shard::ShardCounters::tls_handshakes},
      {"ringside_tls_handshake_failures_total", "mTLS handshakes refused or failed (untrusted, expired or missing certificate, wrong app id, plaintext peer)", "counter", &shard::ShardCounters::tls_handshake_failures},
      {"ringside_peer_connections", "Open HTTP/2 connections to peer sidecars (each owned by its shard's pool)", "gauge", &shard::ShardCounters::peer_connections},
      {"ringside_peer_dials_total", "HTTP/2 connections dialled to peer sidecars", "counter", &shard::ShardCounters::peer_dials},
      {"ringside_peer_calls_queued_total", "Peer calls that waited for a free stream (every connection full)", "counter", &shard::ShardCounters::peer_calls_queued},
      {"ringside_peer_calls_refused_total", "Peer calls failed fast: every connection full and the wait queue full", "counter", &shard::ShardCounters::peer_calls_refused},
      {"ringside_peer_keepalive_failures_total", "Peer connections closed because a keepalive PING went unanswered", "counter", &shard::ShardCounters::peer_keepalive_failures},
      {"ringside_peer_deadlines_total", "Peer calls that ended DEADLINE_EXCEEDED", "counter", &shard::ShardCounters::peer_deadlines},
      {"ringside_broadcast_calls_total", "Unary invocations sent to every usable instance (broadcast cluster strategy)", "counter", &shard::ShardCounters::broadcast_calls},
      {"ringside_broadcast_rejected_total", "Streamed or proxied calls refused because their app uses the broadcast strategy (unary only)", "counter", &shard::ShardCounters::broadcast_rejected},
      {"ringside_shard_heap_allocations_total", "Global allocator calls on shard threads (counting builds only; 0 otherwise)", "counter", &shard::ShardCounters::heap_allocations},
      // Issue 11: io_uring counters and the snapshot version (docs/metrics.md).
      {"ringside_recv_enobufs_total", "Receive completions that found every provided buffer in use (ENOBUFS; the data waits in the socket)", "counter", &shard::ShardCounters::recv_enobufs},
      {"ringside_cq_overflow_total", "Completions the kernel could not post to the shard's full CQ (the ring's overflow counter)", "counter", &shard::ShardCounters::cq_overflow},
      {"ringside_snapshot_version", "Version of the InstanceTable snapshot the shard uses", "gauge", &shard::ShardCounters::table_version},
  };
  std::string out;
  for (const Metric& m : kMetrics) {
    absl::StrAppend(&out, "# HELP ", m.name, " ", m.help, "\n# TYPE ", m.name, " ", m.type, "\n");
    uint64_t total = 0;
    for (int i = 0; i < c.n; ++i) {
      uint64_t v = (c.items[i].*m.field).load(std::memory_order_relaxed);
      total += v;
      absl::StrAppend(&out, m.name, "{app_id=\"", app_id, "\",shard=\"", i, "\"} ", v, "\n");
    }
    // A version is not additive: the sum row would mean nothing (issue 11).
    if (m.field == &shard::ShardCounters::table_version) continue;
    absl::StrAppend(&out, m.name, "{app_id=\"", app_id, "\"} ", total, "\n");
  }
  // Issue 11: per-stage histograms and snapshot age (dataplane/main/stage_metrics_text.h).
  metrics_text::append_stage_histograms(&out, c.items.get(), c.n, app_id);
  metrics_text::append_snapshot_age(&out, c.items.get(), c.n, app_id, shard::monotonic_ns());
  metrics_text::append_dapr_metrics(&out, c.items.get(), c.n, app_id);  // issue 11: daprd's names
  return out;
}

// The external resolver's figures (multi-cluster sidecars only).
std::string render_external_metrics(const resolvers::external::SyncSubscriber& sub, const std::string& app_id) {
  std::string out;
  auto metric = [&](const char* name, const char* help, const char* type, uint64_t v) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, "{app_id=\"", app_id,
                    "\"} ", v, "\n");
  };
  metric("ringside_external_instances", "Other clusters' instances received from the synchronizer (last table)",
         "gauge", sub.external_instances());
  metric("ringside_sync_subscription_connected", "1 while a synchronizer subscription is open and in step", "gauge",
         sub.connected() ? 1 : 0);
  metric("ringside_sync_updates_received_total", "Table updates (full and delta) received from synchronizers",
         "counter", sub.updates_received());
  metric("ringside_sync_subscriptions_total", "Synchronizer subscriptions that received a table", "counter",
         sub.subscriptions());
  return out;
}

// Issue 10: 1 while calls are delivered to the app (also when health checks are off), 0 while
// the prober finds it unhealthy (docs/metrics.md).
// Issue 10, mTLS: rotations and the certificate's expiry (for an alert before it lapses).
std::string render_mtls_metrics(const tls::CredentialsWatcher* w, const std::string& app_id) {
  if (!w) return "";
  return absl::StrCat(
      "# HELP ringside_mtls_reloads_total Certificate rotations applied (new connections use the new credentials)\n"
      "# TYPE ringside_mtls_reloads_total counter\nringside_mtls_reloads_total{app_id=\"", app_id, "\"} ", w->reloads(), "\n",
      "# HELP ringside_mtls_reload_failures_total Changed credential files that did not load (the current ones were kept)\n"
      "# TYPE ringside_mtls_reload_failures_total counter\nringside_mtls_reload_failures_total{app_id=\"", app_id, "\"} ",
      w->reload_failures(), "\n",
      "# HELP ringside_mtls_certificate_expiry_timestamp_seconds notAfter of the certificate in use\n"
      "# TYPE ringside_mtls_certificate_expiry_timestamp_seconds gauge\n"
      "ringside_mtls_certificate_expiry_timestamp_seconds{app_id=\"", app_id, "\"} ", w->not_after_unix(), "\n");
}

std::string render_app_health_metric(const apphealth::AppHealthMonitor* monitor, const std::string& app_id) {
  std::string out = absl::StrCat(
      "# HELP ringside_app_healthy 1 while the app is healthy (always 1 without --enable-app-health-check)\n"
      "# TYPE ringside_app_healthy gauge\nringside_app_healthy{app_id=\"", app_id, "\"} ",
      monitor == nullptr || monitor->healthy() ? 1 : 0, "\n");
  if (monitor) {
    absl::StrAppend(&out, "# HELP ringside_app_health_probes_total App health probes run\n"
                          "# TYPE ringside_app_health_probes_total counter\nringside_app_health_probes_total{app_id=\"",
                    app_id, "\"} ", monitor->probes(), "\n",
                    "# HELP ringside_app_health_probe_failures_total App health probes that failed\n"
                    "# TYPE ringside_app_health_probe_failures_total counter\n"
                    "ringside_app_health_probe_failures_total{app_id=\"", app_id, "\"} ", monitor->failures(), "\n");
  }
  return out;
}

// Issue 10: the prober for our app (HTTP GET of the health path, or the gRPC health check).
std::unique_ptr<apphealth::AppHealthMonitor> make_app_health_monitor(const config::Options& o,
                                                                     const invoke::SidecarSettings& settings,
                                                                     ControlPlane* control) {
  apphealth::AppHealthMonitor::ProbeFn probe;
  if (settings.app_protocol == "grpc") {
    auto grpc_probe = std::make_shared<apphealth::GrpcProbe>(settings.app_authority, settings.app_api_token);
    probe = [grpc_probe](std::chrono::milliseconds timeout) { return grpc_probe->probe(timeout) == 0; };
  } else {
    apphealth::HttpProbeTarget target;
    target.address = settings.app_addr;
    target.authority = settings.app_authority;
    // daprd appends the path to the app's base URL; a path without its slash gets one.
    target.path = o.app_health_check_path.starts_with('/') ? o.app_health_check_path : "/" + o.app_health_check_path;
    target.app_api_token = settings.app_api_token;
    probe = [target](std::chrono::milliseconds timeout) {
      return apphealth::http_status_is_healthy(apphealth::http_probe_status(target, timeout));
    };
  }
  apphealth::MonitorOptions mo;
  mo.interval = o.app_health_probe_interval;
  mo.timeout = o.app_health_probe_timeout;
  mo.threshold = o.app_health_threshold;
  return std::make_unique<apphealth::AppHealthMonitor>(
      mo, std::move(probe), [control](bool healthy) { control->set_serving(healthy); }, [](const std::string& line) { log_line(line); });
}

}  // namespace

// spec.accessControl compiled for the shards (dataplane/mapping/access_control.h).
static std::shared_ptr<const invoke::AccessControlList> access_control_list(const config::AccessControl& c,
                                                                     bool app_is_http) {
  auto acl = std::make_shared<invoke::AccessControlList>(c.default_action == "allow", c.trust_domain, app_is_http);
  for (const config::AccessControlPolicy& p : c.policies) {
    std::vector<invoke::AccessControlList::OperationRule> rules;
    for (const config::AccessControlOperation& op : p.operations) {
      rules.push_back({op.name, op.http_verbs, op.action == "allow"});
    }
    acl->add_policy(p.app_id, p.app_namespace, p.trust_domain, p.default_action, rules);
  }
  return acl;
}

int run_sidecar(config::Options o) {
  // Configuration file: resolver and data-plane knobs (flags win).
  // Configuration file: resolver and data-plane knobs (flags win). Without --config the
  // defaults apply (SQLite registry at the per-user path or $RINGSIDE_NR_SQLITE).
  auto loaded = config::load_configuration(o.config_path);
  if (!loaded.ok()) {
    log_line(o.config_path.empty()
                 ? std::string(loaded.status().message())
                 : absl::StrCat("--config ", o.config_path, ": ", loaded.status().message()));
    return 2;
  }
  config::Configuration cfg = *std::move(loaded);
  if (auto s = config::apply_dataplane_config(cfg.dataplane, &o); !s.ok()) {
    // The error names the flag or YAML path; the file is named only when there is one.
    log_line(o.config_path.empty() ? std::string(s.message())
                                   : absl::StrCat("--config ", o.config_path, ": ", s.message()));
    return 2;
  }
  if (auto s = config::apply_mtls_config(cfg.mtls, &o); !s.ok()) {  // issue 10
    log_line(o.config_path.empty() ? std::string(s.message())
                                   : absl::StrCat("--config ", o.config_path, ": ", s.message()));
    return 2;
  }
  // Issue 11 (c-config): one thread plan pins every thread and is what --print-layout prints.
  const bool pin = o.flag_given("cpus") || cfg.dataplane.cpus.has_value() ||
                   !(o.flag_given("shards") || cfg.dataplane.shards.has_value());
  const shard::ThreadLayout layout = shard::plan_thread_layout(o, pin, config::allowed_cpus());
  if (o.print_layout) {
    std::fputs(shard::layout_text(layout).c_str(), stdout);
    return 0;
  }
  // Threads started from here on (control plane, metrics, resolvers) inherit this: off the shards' CPUs.
  if (auto s = shard::pin_current_thread(layout.housekeeping); !s.ok()) {
    log_line(std::string(s.message()));
    return 1;
  }
  if (o.app_port && o.app_protocol != "http" && o.app_protocol != "grpc") {
    log_line(absl::StrCat("--app-protocol: \"", o.app_protocol,
                          "\" is not supported yet (only http and grpc)"));
    return 2;
  }

  // Block the shutdown signals before any thread starts, so only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  invoke::SidecarSettings settings;
  settings.app_id = o.app_id;
  settings.app_namespace = o.app_namespace;
  settings.hostname = hostname();
  settings.host_ip =
      resolvers::registered_host(o.host_ip, o.dapr_internal_grpc_listen_address);
  settings.set_forwarded();  // issue 11: the Forwarded header value, once per process
  settings.max_body_size = o.max_body_size;
  // Go's server lets a head reach MaxHeaderBytes + 4096 before answering 431; daprd sets
  // MaxHeaderBytes from --read-buffer-size.
  settings.max_header_bytes = static_cast<uint32_t>(o.read_buffer_size + 4096);
  settings.graceful_shutdown_ns = int64_t{o.graceful_shutdown.count()} * 1'000'000'000;
  settings.runtime_version = kVersion;
  settings.peer_max_connections = o.peer_max_connections;
  settings.peer_max_pending = o.peer_max_pending;
  settings.peer_idle_timeout_ns = int64_t{o.peer_idle_timeout.count()} * 1'000'000;
  settings.peer_keepalive_interval_ns = int64_t{o.peer_keepalive_interval.count()} * 1'000'000;
  settings.peer_keepalive_timeout_ns = int64_t{o.peer_keepalive_timeout.count()} * 1'000'000;
  settings.peer_call_timeout_ns = int64_t{o.peer_call_timeout.count()} * 1'000'000;
  settings.internal_max_concurrent_streams = o.internal_max_concurrent_streams;
  settings.shard_count = static_cast<uint32_t>(o.shards);
  settings.metadata_json = metadata_json(o);
  settings.grpc_metadata_response = grpc_metadata_response(o);
  settings.dapr_api_token = o.dapr_api_token;
  settings.app_api_token = o.app_api_token;
  if (!settings.dapr_api_token.empty()) {
    settings.grpc_token_missing_details =
        invoke::http_error_status_details(401, "missing api token in request metadata");
    settings.grpc_token_mismatch_details =
        invoke::http_error_status_details(401, "authentication error: api token mismatch");
  }
  // --app-max-concurrency (daprd: only positive values limit); outlives the shards.
  static std::unique_ptr<invoke::AppConcurrency> app_concurrency;
  if (o.app_max_concurrency > 0) {
    app_concurrency = std::make_unique<invoke::AppConcurrency>(o.app_max_concurrency);
    settings.app_concurrency = app_concurrency.get();
  }
  settings.app_concurrency_queue = o.app_concurrency_queue;
  settings.app_concurrency_timeout_ns = int64_t{o.app_concurrency_timeout.count()} * 1'000'000;
  // Issue 10 (res): Resiliency resources from --resources-path; a malformed one stops us (exit 2).
  if (!o.resources_paths.empty()) {
    auto resources = config::load_resiliency(o.resources_paths, o.app_id);
    absl::StatusOr<config::ResolvedResiliency> resolved =
        resources.ok() ? config::resolve_resiliency(*resources) : absl::StatusOr<config::ResolvedResiliency>(resources.status());
    if (!resolved.ok()) {
      log_line(absl::StrCat("--resources-path: ", resolved.status().message()));
      return 2;
    }
    if (resolved->any()) {
      auto policies = std::make_shared<const resiliency::Policies>(resiliency::compile_policies(*resolved));
      static std::unique_ptr<resiliency::CircuitBreakers> breakers;  // outlives the shards
      if (policies->any_breaker()) {
        breakers = std::make_unique<resiliency::CircuitBreakers>(4096);
        settings.breakers = breakers.get();
      }
      settings.resiliency = std::move(policies);
      log_line(absl::StrCat("resiliency: ", resources->size(), " Resiliency resource(s) loaded"));
    }
  }
  // Issue 10: limits.
  settings.http_header_timeout_ns = int64_t{o.http_header_timeout.count()} * 1'000'000;
  settings.http_body_timeout_ns = int64_t{o.http_body_timeout.count()} * 1'000'000;
  settings.http_idle_timeout_ns = int64_t{o.http_idle_timeout.count()} * 1'000'000;
  settings.max_connections = o.max_connections;
  if (cfg.access_control.present) {
    settings.access_control = access_control_list(cfg.access_control, /*app_is_http=*/o.app_protocol != "grpc");
  }
  // Issue 10: mTLS on the internal port. The credentials must load and name us, else peers
  // would refuse every call: better to say so now (exit 2, naming the flag).
  static std::unique_ptr<tls::CredentialStore> mtls_store;  // outlives the shards
  if (o.enable_mtls) {
    tls::CredentialFiles files{o.tls_cert_file, o.tls_key_file, o.tls_trust_anchors_file};
    auto loaded = tls::TlsContext::load(files);
    if (!loaded.ok()) {
      log_line(absl::StrCat("--tls-cert-file: ", loaded.status().message()));
      return 2;
    }
    const tls::SpiffeId& me = (*loaded)->identity();
    if (me.app_id != o.app_id || me.app_namespace != o.app_namespace) {
      log_line(absl::StrCat("--tls-cert-file: the certificate names ", (*loaded)->identity_text(), ", not app id \"",
                            o.app_id, "\" in namespace \"", o.app_namespace, "\" (peers would refuse it)"));
      return 2;
    }
    log_line(absl::StrCat("mtls: on for the internal port as ", (*loaded)->identity_text()));
    mtls_store = std::make_unique<tls::CredentialStore>(*std::move(loaded));
    settings.mtls = mtls_store.get();
  }
  if (o.app_port) {
    settings.has_app = true;
    settings.app_protocol = o.app_protocol;
    std::string hp = resolvers::join_host_port(o.app_channel_address, *o.app_port);
    if (!io::parse_host_port(hp, &settings.app_addr)) {
      log_line(absl::StrCat("--app-channel-address: \"", o.app_channel_address,
                            "\" is not an IPv4 address or localhost"));
      return 2;
    }
    settings.app_authority = hp;
  }

  // Listeners: one SO_REUSEPORT socket per shard and port, bound before anything starts so a
  // busy port fails fast (exit 1, naming it).
  const int n = o.shards;
  std::vector<std::string> api_addrs = o.dapr_listen_addresses;
  if (api_addrs.empty()) api_addrs.push_back("127.0.0.1");
  const std::string& http_addr = api_addrs[0];  // the one named in the start-up line
  std::vector<shard::ShardSetup> setups(n);
  uint16_t internal_port = o.dapr_internal_grpc_port;
  for (int i = 0; i < n; ++i) {
    for (const std::string& addr : api_addrs) {
      auto http = io::listen_tcp(addr, o.dapr_http_port, i == 0);
      if (!http.ok()) {
        log_line(absl::StrCat("--dapr-http-port: ", http.status().message()));
        return http.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
      }
      auto grpc = io::listen_tcp(addr, o.dapr_grpc_port, i == 0);
      if (!grpc.ok()) {
        log_line(absl::StrCat("--dapr-grpc-port: ", grpc.status().message()));
        return 1;
      }
      setups[i].http_fds.push_back(*http);
      setups[i].grpc_fds.push_back(*grpc);
    }
    auto internal = io::listen_tcp(o.dapr_internal_grpc_listen_address, internal_port, i == 0);
    if (!internal.ok()) {
      log_line(absl::StrCat("--dapr-internal-grpc-port: ", internal.status().message()));
      return 1;
    }
    if (internal_port == 0) internal_port = io::bound_port(*internal);
    setups[i].internal_fd = *internal;
  }

  // Control plane: registry first (so a broken registry fails start-up), then shards.
  auto resolver = resolvers::make_resolver(cfg.name_resolution);
  if (!resolver.ok()) {
    log_line(absl::StrCat("name resolution: ", resolver.status().message()));
    return 2;
  }
  // Host names in registrations (static entries, etcd records, ...) are bound to addresses by
  // the control plane's DNS client; the resolver's DNS keys (nameservers, ...) apply to it.
  dns::DnsOptions dns_options;
  if (!cfg.name_resolution.configuration_yaml.empty()) {
    absl::StatusOr<dns::DnsOptions> parsed = dns::parse_dns_options(
        YAML::Load(cfg.name_resolution.configuration_yaml), "spec.nameResolution.configuration");
    if (!parsed.ok()) {
      log_line(absl::StrCat("name resolution: ", parsed.status().message()));
      return 2;
    }
    dns_options = *std::move(parsed);
  }
  absl::StatusOr<std::unique_ptr<dns::HostResolver>> host_resolver = dns::make_host_resolver(dns_options);
  if (!host_resolver.ok()) {
    log_line(absl::StrCat("name resolution: DNS client: ", host_resolver.status().message()));
    return 1;
  }
  snapshot::SnapshotRegistry registry(n);
  ControlPlaneOptions control_options;
  control_options.load_balancing = cfg.load_balancing;  // per-app policies go into every table
  control_options.host_resolver = host_resolver->get();
  // Strategies apply whenever we know our cluster: a static file can tag instances with
  // clusters even without a synchronizer.
  const config::MultiCluster& mc = cfg.multi_cluster;
  control_options.clusters.local_cluster = mc.cluster;
  control_options.clusters.strategies = mc.strategies;
  control_options.clusters.multi_cluster = !mc.cluster.empty();
  control_options.await_external = mc.enabled();  // early calls to other clusters' apps wait for the first table
  ControlPlane control(*std::move(resolver), &registry, control_options);
  // Issue 10: app health checks need an app; the shards read the verdict through settings.
  std::unique_ptr<apphealth::AppHealthMonitor> app_health;
  if (o.enable_app_health_check && settings.has_app) {
    app_health = make_app_health_monitor(o, settings, &control);
    settings.app_healthy = app_health->healthy_flag();
  }
  // The external resolver: other clusters' instances from ringside-sync, merged into our table.
  std::unique_ptr<resolvers::external::SyncSubscriber> subscriber;
  if (mc.enabled()) {
    resolvers::external::SubscriberOptions so;
    so.synchronizers = mc.synchronizers;
    so.token = mc.token;
    so.cluster = mc.cluster;
    so.app_id = o.app_id;
    subscriber = std::make_unique<resolvers::external::SyncSubscriber>(
        so, [&control](std::vector<snapshot::Instance> instances) { control.publish_external(std::move(instances)); },
        [](const std::string& line) { log_line(line); });
  }
  resolvers::SelfRegistration self;
  self.app_id = o.app_id;
  self.app_namespace = o.app_namespace;
  self.address = resolvers::join_host_port(settings.host_ip, internal_port);
  self.http_port = o.dapr_http_port;
  self.grpc_port = o.dapr_grpc_port;
  self.internal_port = internal_port;
  self.host_name = settings.hostname;
  self.app_port = o.app_port ? *o.app_port : 0;
  self.cluster = mc.cluster;  // registries record it (etcd records, ...)

  // Issue 10: certificate rotation (a thread of its own).
  std::unique_ptr<tls::CredentialsWatcher> mtls_watcher;
  if (settings.mtls) {
    mtls_watcher = std::make_unique<tls::CredentialsWatcher>(
        tls::CredentialFiles{o.tls_cert_file, o.tls_key_file, o.tls_trust_anchors_file}, mtls_store.get(),
        o.tls_reload_interval, [](const std::string& line) { log_line(line); });
    mtls_watcher->start();
  }

  ShardCountersArray counters;
  counters.items = std::make_unique<shard::ShardCounters[]>(n);
  counters.n = n;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (o.enable_metrics) {
    metrics_server = std::make_unique<metrics::MetricsServer>(
        [&counters, &subscriber, &app_health, &mtls_watcher, id = o.app_id] {
          std::string text = render_metrics(counters, id);
          if (subscriber) text += render_external_metrics(*subscriber, id);
          text += render_app_health_metric(app_health.get(), id);  // issue 10
          text += render_mtls_metrics(mtls_watcher.get(), id);       // issue 10
          return text;
        });
    if (auto s = metrics_server->start(o.metrics_listen_address, o.metrics_port); !s.ok()) {
      log_line(absl::StrCat("--metrics-port: ", s.message()));
      return 1;
    }
  }

  // Issue 11, shard balance: connections on the internal port (peer sidecars) and the HTTP API
  // port go to the shard with the fewest of that port (declared before `shards`, which use them
  // until they are joined).
  std::unique_ptr<shard::AcceptBalancer> internal_balancer;
  std::unique_ptr<shard::AcceptBalancer> http_balancer;
  if (n > 1) {
    internal_balancer = std::make_unique<shard::AcceptBalancer>(n, /*min_gap=*/1);
    http_balancer = std::make_unique<shard::AcceptBalancer>(n, /*min_gap=*/1);
  }
  std::vector<std::unique_ptr<shard::Shard>> shards;
  for (int i = 0; i < n; ++i) {
    shard::ShardSetup& s = setups[i];
    s.index = i;
    s.internal_balancer = internal_balancer.get();
    s.http_balancer = http_balancer.get();
    s.cpu = layout.shard_cpus[i];
    s.ring.entries = o.ring_entries;
    s.ring.sqpoll = o.sqpoll;
    s.ring.sqpoll_cpu = shard::poller_cpu_of(layout, i);
    s.ring.sqpoll_idle_ms = o.sqpoll_idle_ms;
    s.busy_poll_us = o.busy_poll_us;
    s.buffer_count = o.buffer_count;
    s.buffer_size = o.buffer_size;
    s.settings = &settings;
    s.snapshots = &registry;
    s.reader = registry.register_reader();
    s.counters = &counters.items[i];
  }
  if (auto s = control.start(self); !s.ok()) {
    log_line(absl::StrCat("name resolution (", cfg.name_resolution.component, "): ", s.message()));
    return 1;
  }
  // Issue 10: as daprd, the app is unhealthy until its first probe succeeds, so our
  // registration is withdrawn right after start until then (a caller meanwhile gets daprd's
  // "app is not in a healthy state" from us).
  if (app_health) {
    control.set_serving(false);
    app_health->start();
  }
  // After the control plane: the first external table is merged into a running loop. The
  // sidecar serves its own cluster at once; other clusters appear when the subscription opens.
  if (subscriber) {
    if (auto s = subscriber->start(); !s.ok()) {
      log_line(std::string(s.message()));
      control.stop();
      return 1;
    }
  }
  for (int i = 0; i < n; ++i) {
    // A shared SQPOLL poller: shards 1.. attach to shard 0's ring (started first).
    if (o.sqpoll && o.sqpoll_shared && i > 0) setups[i].ring.attach_wq_fd = shards[0]->ring_fd();
    shards.push_back(std::make_unique<shard::Shard>(setups[i]));
    if (auto s = shards.back()->start(); !s.ok()) {
      log_line(std::string(s.message()));
      for (auto& sh : shards) sh->request_stop();
      shards.clear();
      if (subscriber) subscriber->stop();
      control.stop();
      return 1;
    }
  }
  std::string clusters;
  if (!mc.cluster.empty()) {
    clusters = absl::StrCat(", cluster ", mc.cluster, " (strategy ", std::string(snapshot::to_string(mc.strategies.defaults)),
                            mc.strategies.apps.empty() ? "" : absl::StrCat(", ", mc.strategies.apps.size(), " per-app"),
                            ")");
    absl::StrAppend(&clusters, mc.enabled() ? absl::StrCat(", synchronizers ", absl::StrJoin(mc.synchronizers, ","))
                                            : ", no synchronizer");
  }
  log_line(absl::StrFormat(
      "app id %s serving: HTTP %s:%d, gRPC %s:%d, internal gRPC %s (%d shard%s), name "
      "resolution %s%s",
      o.app_id, http_addr, o.dapr_http_port, http_addr, o.dapr_grpc_port, self.address, n,
      n == 1 ? "" : "s", cfg.name_resolution.component, clusters));

  int sig = 0;
  sigwait(&signals, &sig);
  log_line(absl::StrFormat("received %s: draining (up to %ds)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                           static_cast<int>(o.graceful_shutdown.count())));
  // Issue 10, graceful drain: leave the registry first, so callers stop picking us while the
  // shards finish what they have (the health monitor stops first: a healthy probe must not
  // register us again).
  if (app_health) app_health->stop();
  control.set_serving(false);
  for (auto& s : shards) s->request_stop();
  for (auto& s : shards) s->join();
  if (subscriber) subscriber->stop();  // before the control plane it feeds
  control.stop();  // deregisters
  if (metrics_server) metrics_server->stop();
  log_line("stopped");
  return 0;
}

}  // namespace ringside
