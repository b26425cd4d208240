#include "controlplane/config/options.h"

#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/value_parsers.h"

#ifndef RINGSIDE_VERSION
#define RINGSIDE_VERSION "0.0.0-dev"
#endif

namespace ringside::config {

std::string_view ringside_version() { return RINGSIDE_VERSION; }

namespace {

// Applies one flag's value to Options; returns "" or the problem (without the flag name).
struct Placement;
using ApplyFn = std::string (*)(std::string_view value, Options* out, Placement* placement);

struct FlagSpec {
  const char* name;          // flag name without dashes
  const char* default_text;  // default shown by --help
  const char* help;          // one-line description for --help
  bool is_bool;              // takes no separate value; "--x" means true
  ApplyFn apply;             // stores the parsed value
};

std::string quoted(std::string_view v) { return absl::StrCat("\"", to_absl(v), "\""); }

std::string port_value(std::string_view v, uint16_t* out) {
  auto p = parse_port(v);
  if (!p) return absl::StrCat(quoted(v), " is not a port number");
  *out = *p;
  return "";
}

std::string bool_value(std::string_view v, bool* out) {
  auto b = parse_bool(v);
  if (!b) return absl::StrCat(quoted(v), " is not a boolean (true or false)");
  *out = *b;
  return "";
}

std::string int_value(std::string_view v, int min, int* out) {
  auto i = parse_int(v);
  if (!i || *i < min || *i > INT32_MAX) return absl::StrCat(quoted(v), " is not an integer >= ", min);
  *out = static_cast<int>(*i);
  return "";
}

std::string u32_value(std::string_view v, uint32_t min, uint32_t* out) {
  auto i = parse_int(v);
  if (!i || *i < min || *i > UINT32_MAX) return absl::StrCat(quoted(v), " is not an integer >= ", min);
  *out = static_cast<uint32_t>(*i);
  return "";
}

std::string quantity_value(std::string_view v, uint64_t* out) {
  auto q = parse_quantity(v);
  if (!q) return absl::StrCat(quoted(v), " is not a size (e.g. 4Mi, 512Ki, 1M, 1048576)");
  *out = *q;
  return "";
}

// daprd takes the health probe flags as plain milliseconds/seconds numbers or durations.
std::string millis_value(std::string_view v, int64_t bare_unit_ms, std::chrono::milliseconds* out) {
  if (auto i = parse_int(v); i && *i >= 0) {
    *out = std::chrono::milliseconds(*i * bare_unit_ms);
    return "";
  }
  auto d = parse_duration(v);
  if (!d) return absl::StrCat(quoted(v), " is not a duration");
  *out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  return "";
}


// Requested (not yet resolved) CPU placement; kept aside until all flags are read.
struct Placement {
  std::vector<int> cpus;  // from --cpus
  int shards = 0;         // from --shards; 0 = not given
};

std::string ignore(std::string_view, Options*, Placement*) { return ""; }

const FlagSpec kFlags[] = {
    {"app-id", "\"\"", "ID of the application; required, must not contain dots", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       if (v.empty()) return "must not be empty";
       if (v.find('.') != std::string_view::npos) return "parameter app-id cannot contain dots";
       o->app_id = std::string(v);
       return "";
     }},
    {"app-port", "\"\"", "port the application listens on; empty = no app", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       if (v.empty()) {
         o->app_port.reset();
         return "";
       }
       uint16_t p = 0;
       std::string e = port_value(v, &p);
       if (e.empty()) o->app_port = p;
       return e;
     }},
    {"app-protocol", "http", "protocol of the app: http, https, h2c, grpc or grpcs", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       std::string lower = absl::AsciiStrToLower(to_absl(v));
       if (lower != "http" && lower != "https" && lower != "h2c" && lower != "grpc" && lower != "grpcs")
         return absl::StrCat(quoted(v), " is not one of http, https, h2c, grpc, grpcs");
       o->app_protocol = lower;
       return "";
     }},
    {"app-channel-address", "127.0.0.1", "network address the application listens on", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       if (v.empty()) return "must not be empty";
       o->app_channel_address = std::string(v);
       return "";
     }},
    {"app-max-concurrency", "-1", "max concurrent calls delivered to the app (all shards); -1 = unlimited", false,
     [](std::string_view v, Options* o, Placement*) { return int_value(v, -1, &o->app_max_concurrency); }},
    {"app-ssl", "false", "deprecated: use --app-protocol https or grpcs", true,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       bool ssl = false;
       std::string e = bool_value(v, &ssl);
       if (!e.empty() || !ssl) return e;
       if (o->app_protocol == "http") o->app_protocol = "https";
       if (o->app_protocol == "grpc") o->app_protocol = "grpcs";
       return "";
     }},
    {"enable-app-health-check", "false", "probe the app's health; an unhealthy app's sidecar refuses calls and withdraws its registration (docs/app-health.md)", true,
     [](std::string_view v, Options* o, Placement*) { return bool_value(v, &o->enable_app_health_check); }},
    {"app-health-check-path", "/healthz", "path probed with GET on HTTP apps (2xx = healthy); gRPC apps get AppCallbackHealthCheck/HealthCheck", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       o->app_health_check_path = std::string(v);
       return "";
     }},
    {"app-health-probe-interval", "5", "seconds (or a duration) between health probes; must be > 0", false,
     [](std::string_view v, Options* o, Placement*) { return millis_value(v, 1000, &o->app_health_probe_interval); }},
    {"app-health-probe-timeout", "500", "milliseconds (or a duration) a health probe may take; must not exceed the interval", false,
     [](std::string_view v, Options* o, Placement*) { return millis_value(v, 1, &o->app_health_probe_timeout); }},
    {"app-health-threshold", "3", "consecutive failed probes before the app is unhealthy", false,
     [](std::string_view v, Options* o, Placement*) { return int_value(v, 1, &o->app_health_threshold); }},
    {"dapr-http-port", "3500", "port of the Dapr HTTP API", false,
     [](std::string_view v, Options* o, Placement*) { return port_value(v, &o->dapr_http_port); }},
    {"dapr-grpc-port", "50001", "port of the Dapr gRPC API", false,
     [](std::string_view v, Options* o, Placement*) { return port_value(v, &o->dapr_grpc_port); }},
    {"dapr-internal-grpc-port", "0", "port for sidecar-to-sidecar gRPC; 0 or empty = pick a free port", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       if (v.empty()) {
         o->dapr_internal_grpc_port = 0;
         return "";
       }
       return port_value(v, &o->dapr_internal_grpc_port);
     }},
    {"dapr-internal-grpc-listen-address", "\"\"", "address the internal gRPC server binds; empty = all", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       o->dapr_internal_grpc_listen_address = std::string(v);
       return "";
     }},
    {"dapr-listen-addresses", "127.0.0.1", "comma list of addresses the HTTP and gRPC APIs bind (ringside: loopback by default)", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       std::vector<std::string> list;
       for (absl::string_view a : absl::StrSplit(to_absl(v), ',', absl::SkipWhitespace())) {
         list.emplace_back(absl::StripAsciiWhitespace(a));
       }
       if (list.empty()) return "must name at least one address";
       o->dapr_listen_addresses = std::move(list);
       return "";
     }},
    {"metrics-port", "9090", "port of the Prometheus metrics server", false,
     [](std::string_view v, Options* o, Placement*) { return port_value(v, &o->metrics_port); }},
    {"metrics-listen-address", "0.0.0.0", "address the metrics server binds (daprd's default: all interfaces)", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       if (v.empty()) return "must not be empty";
       o->metrics_listen_address = std::string(v);
       return "";
     }},
    {"enable-metrics", "true", "serve Prometheus metrics", true,
     [](std::string_view v, Options* o, Placement*) { return bool_value(v, &o->enable_metrics); }},
    {"config", "\"\"", "path of a Dapr Configuration YAML file", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       o->config_path = std::string(v);
       return "";
     }},
    {"max-body-size", "4Mi", "max request/response body size (quantity: 4Mi, 512Ki, 1M, 1048576)", false,
     [](std::string_view v, Options* o, Placement*) { return quantity_value(v, &o->max_body_size); }},
    {"dapr-http-max-request-size", "4", "deprecated: body limit in MB, used only without --max-body-size", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       auto i = parse_int(v);
       if (!i || *i < 0 || *i > (1 << 20)) return absl::StrCat(quoted(v), " is not a size in MB");
       if (!o->flag_given("max-body-size")) o->max_body_size = static_cast<uint64_t>(*i) << 20;
       return "";
     }},
    {"read-buffer-size", "4Ki", "max HTTP header bytes (quantity)", false,
     [](std::string_view v, Options* o, Placement*) { return quantity_value(v, &o->read_buffer_size); }},
    {"dapr-http-read-buffer-size", "4", "deprecated: header limit in KB, used only without --read-buffer-size", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       auto i = parse_int(v);
       if (!i || *i < 0 || *i > (1 << 20)) return absl::StrCat(quoted(v), " is not a size in KB");
       if (!o->flag_given("read-buffer-size")) o->read_buffer_size = static_cast<uint64_t>(*i) << 10;
       return "";
     }},
    {"log-level", "info", "log level: debug, info, warn, error or fatal", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       std::string lower = absl::AsciiStrToLower(to_absl(v));
       if (lower != "debug" && lower != "info" && lower != "warn" && lower != "error" && lower != "fatal")
         return absl::StrCat(quoted(v), " is not one of debug, info, warn, error, fatal");
       o->log_level = lower;
       return "";
     }},
    {"log-as-json", "false", "write logs as JSON lines", true,
     [](std::string_view v, Options* o, Placement*) { return bool_value(v, &o->log_as_json); }},
    {"mode", "standalone", "runtime mode; only standalone is supported", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       if (v == "standalone") return "";
       if (v == "kubernetes") return "kubernetes mode is not supported by ringside; use standalone";
       return absl::StrCat(quoted(v), " is not a mode (standalone)");
     }},
    {"dapr-graceful-shutdown-seconds", "5", "seconds to drain in-flight calls on shutdown", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       int s = 0;
       std::string e = int_value(v, 0, &s);
       if (e.empty()) o->graceful_shutdown = std::chrono::seconds(s);
       return e;
     }},
    {"cpus", "all allowed", "ringside: CPUs to run shards on, one shard each (e.g. 0-1 or 0,2,4-5)", false,
     [](std::string_view v, Options*, Placement* p) -> std::string {
       auto list = parse_cpu_list(v);
       if (!list) return absl::StrCat(quoted(v), " is not a CPU list (e.g. 0-1 or 0,2,4-5)");
       p->cpus = *std::move(list);
       return "";
     }},
    {"shards", "one per allowed CPU", "ringside: number of shards (event-loop threads)", false,
     [](std::string_view v, Options*, Placement* p) -> std::string { return int_value(v, 1, &p->shards); }},
    {"ring-entries", "1024", "ringside: io_uring submission queue entries per shard", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 8, &o->ring_entries); }},
    {"buffer-size", "16384", "ringside: bytes per provided receive buffer", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 512, &o->buffer_size); }},
    {"buffer-count", "1024", "ringside: provided receive buffers per shard", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 1, &o->buffer_count); }},
    {"sqpoll", "false", "ringside: use an io_uring SQPOLL kernel thread per shard", true,
     [](std::string_view v, Options* o, Placement*) { return bool_value(v, &o->sqpoll); }},
    {"sqpoll-cpu", "-1", "ringside: CPU for the SQPOLL thread; -1 = kernel's choice", false,
     [](std::string_view v, Options* o, Placement*) { return int_value(v, -1, &o->sqpoll_cpu); }},
    // Issue 11 (c-config): SQPOLL layout, busy-poll and --print-layout (docs/tuning.md).
    {"sqpoll-cpus", "sqpoll-cpu", "ringside: SQPOLL poller CPU per shard (e.g. 4-5), or one CPU with --sqpoll-shared", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       auto list = parse_cpu_list(v);
       if (!list || list->empty()) return absl::StrCat(quoted(v), " is not a CPU list (e.g. 0-1 or 0,2,4-5)");
       o->sqpoll_cpus = *std::move(list);
       return "";
     }},
    {"sqpoll-shared", "false", "ringside: one SQPOLL poller shared by all shards (IORING_SETUP_ATTACH_WQ)", true,
     [](std::string_view v, Options* o, Placement*) { return bool_value(v, &o->sqpoll_shared); }},
    {"sqpoll-idle-ms", "100", "ringside: the SQPOLL poller sleeps after this many idle milliseconds", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 1, &o->sqpoll_idle_ms); }},
    {"busy-poll-us", "0", "ringside: after a busy loop turn, spin up to this many microseconds for completions before sleeping; 0 = off", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 0, &o->busy_poll_us); }},
    {"print-layout", "false", "ringside: print which thread runs on which CPU, then exit", true,
     [](std::string_view v, Options* o, Placement*) { return bool_value(v, &o->print_layout); }},
    {"peer-max-connections", "8", "ringside: HTTP/2 connections per peer sidecar and shard (1-64)", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       std::string e = u32_value(v, 1, &o->peer_max_connections);
       if (e.empty() && o->peer_max_connections > 64) return absl::StrCat(quoted(v), " is above 64");
       return e;
     }},
    {"peer-max-pending", "1024", "ringside: calls per peer and shard that may wait for a free stream; more fail fast", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 0, &o->peer_max_pending); }},
    {"peer-idle-timeout", "60s", "ringside: extra peer connections idle this long are closed (duration or seconds)", false,
     [](std::string_view v, Options* o, Placement*) { return millis_value(v, 1000, &o->peer_idle_timeout); }},
    {"peer-keepalive-interval", "10s", "ringside: a peer connection with calls in flight and silent this long is PINGed", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       std::string e = millis_value(v, 1000, &o->peer_keepalive_interval);
       if (e.empty() && o->peer_keepalive_interval.count() <= 0) return "must be positive";
       return e;
     }},
    {"peer-keepalive-timeout", "5s", "ringside: an unanswered PING fails the connection after this long", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       std::string e = millis_value(v, 1000, &o->peer_keepalive_timeout);
       if (e.empty() && o->peer_keepalive_timeout.count() <= 0) return "must be positive";
       return e;
     }},
    {"peer-call-timeout", "60s", "ringside: deadline of invocations whose caller set none (grpc-timeout); 0 = none", false,
     [](std::string_view v, Options* o, Placement*) { return millis_value(v, 1000, &o->peer_call_timeout); }},
    {"app-concurrency-queue", "1024", "ringside: calls per shard that may wait for --app-max-concurrency; more fail fast", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 0, &o->app_concurrency_queue); }},
    {"app-concurrency-timeout", "5s", "ringside: how long a call waits for --app-max-concurrency before it fails", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       std::string e = millis_value(v, 1000, &o->app_concurrency_timeout);
       if (e.empty() && o->app_concurrency_timeout.count() <= 0) return "must be positive";
       return e;
     }},
    // Issue 10, limits (docs/security.md).
    {"http-header-timeout", "10s", "ringside: an HTTP API request head must arrive within this of its first byte (slowloris); 408 after; 0 = none", false,
     [](std::string_view v, Options* o, Placement*) { return millis_value(v, 1000, &o->http_header_timeout); }},
    {"http-body-timeout", "30s", "ringside: longest silence inside an HTTP API request body; 408 after; 0 = none", false,
     [](std::string_view v, Options* o, Placement*) { return millis_value(v, 1000, &o->http_body_timeout); }},
    {"http-idle-timeout", "5m", "ringside: an idle keep-alive HTTP API connection is closed after this; 0 = never", false,
     [](std::string_view v, Options* o, Placement*) { return millis_value(v, 1000, &o->http_idle_timeout); }},
    {"max-connections", "10000", "ringside: inbound connections per shard and port (HTTP API, gRPC API, internal); more are refused at once", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 1, &o->max_connections); }},
    {"internal-max-concurrent-streams", "2048", "ringside: SETTINGS_MAX_CONCURRENT_STREAMS of the internal gRPC port", false,
     [](std::string_view v, Options* o, Placement*) { return u32_value(v, 1, &o->internal_max_concurrent_streams); }},
    // Issue 10: mTLS between sidecars on the internal port (docs/security.md "mTLS").
    {"enable-mtls", "false", "mutual TLS on the internal port, to and from peer sidecars (needs the three --tls-* files)", true,
     [](std::string_view v, Options* o, Placement*) { return bool_value(v, &o->enable_mtls); }},
    {"tls-cert-file", "\"\"", "ringside: PEM certificate chain with our SPIFFE ID (spiffe://<td>/ns/<ns>/<app-id>) for --enable-mtls", false,
     [](std::string_view v, Options* o, Placement*) -> std::string { o->tls_cert_file = std::string(v); return ""; }},
    {"tls-key-file", "\"\"", "ringside: PEM private key of --tls-cert-file", false,
     [](std::string_view v, Options* o, Placement*) -> std::string { o->tls_key_file = std::string(v); return ""; }},
    {"tls-trust-anchors-file", "\"\"", "ringside: PEM CA certificates peer certificates must chain to", false,
     [](std::string_view v, Options* o, Placement*) -> std::string { o->tls_trust_anchors_file = std::string(v); return ""; }},
    {"tls-reload-interval", "5s", "ringside: how often the three --tls-* files are checked for a rotation", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       std::string e = millis_value(v, 1000, &o->tls_reload_interval);
       if (e.empty() && o->tls_reload_interval.count() <= 0) return "must be positive";
       return e;
     }},
    // Accepted for daprd command-line compatibility; they configure features ringside lacks.
    {"enable-api-logging", "false", "accepted and ignored", true, ignore},
    {"enable-profiling", "false", "accepted and ignored", true, ignore},
    {"profile-port", "7777", "accepted and ignored", false, ignore},
    {"sentry-address", "\"\"", "accepted and ignored", false, ignore},
    {"control-plane-address", "\"\"", "accepted and ignored", false, ignore},
    {"control-plane-trust-domain", "localhost", "accepted and ignored", false, ignore},
    {"control-plane-namespace", "default", "accepted and ignored", false, ignore},
    // Issue 10 (res): Resiliency resources are read from here (docs/resiliency.md); other
    // component kinds are ignored. May be given more than once, as with daprd.
    {"resources-path", "\"\"", "directory of resource YAML files (Resiliency is used; other kinds ignored); repeatable", false,
     [](std::string_view v, Options* o, Placement*) -> std::string {
       if (!v.empty()) o->resources_paths.emplace_back(v);
       return "";
     }},
    {"components-path", "\"\"", "accepted and ignored (deprecated in daprd)", false, ignore},
    {"placement-host-address", "\"\"", "accepted and ignored (no actors)", false, ignore},
    {"scheduler-host-address", "\"\"", "accepted and ignored (no jobs)", false, ignore},
    {"allowed-origins", "\"\"", "accepted and ignored (no CORS)", false, ignore},
    {"dapr-block-shutdown-duration", "\"\"", "accepted and ignored", false, ignore},
    {"disable-init-endpoints", "\"\"", "accepted and ignored", false, ignore},
    {"dapr-public-port", "\"\"", "accepted and ignored (no public listener yet)", false, ignore},
    {"dapr-public-listen-address", "\"\"", "accepted and ignored", false, ignore},
};

const FlagSpec* find_flag(std::string_view name) {
  for (const FlagSpec& f : kFlags) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

void read_environment(Options* out) {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? v : nullptr;
  };
  if (const char* v = env("NAMESPACE")) out->app_namespace = v;
  if (const char* v = env("DAPR_HOST_IP")) out->host_ip = v;
  if (const char* v = env("APP_API_TOKEN")) out->app_api_token = v;
  if (const char* v = env("DAPR_API_TOKEN")) out->dapr_api_token = v;
}

// Cross-flag rules checked after every flag is read.
std::string check_combinations(const Options& o) {
  if (o.app_id.empty()) return "--app-id: is required";
  if (o.app_port && (*o.app_port == o.dapr_http_port || *o.app_port == o.dapr_grpc_port))
    return absl::StrCat("--app-port: ", *o.app_port, " is also used by the Dapr HTTP or gRPC API");
  if (o.dapr_http_port == o.dapr_grpc_port)
    return absl::StrCat("--dapr-grpc-port: ", o.dapr_grpc_port, " is also the --dapr-http-port");
  // Issue 10: daprd refuses a zero interval too ("probe interval must be larger than 0"); a
  // zero timeout would fail every probe.
  if (o.app_health_probe_interval.count() <= 0) return "--app-health-probe-interval: must be greater than 0";
  if (o.app_health_probe_timeout.count() <= 0) return "--app-health-probe-timeout: must be greater than 0";
  if (o.app_health_probe_timeout > o.app_health_probe_interval)
    return "--app-health-probe-timeout: must not exceed --app-health-probe-interval";
  return "";
}

}  // namespace

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

std::string resolve_shard_cpus(const std::vector<int>& requested_cpus, int requested_shards,
                               const std::vector<int>& allowed, std::string_view cpus_label,
                               std::string_view shards_label, Options* out) {
  if (!requested_cpus.empty()) {
    for (int cpu : requested_cpus) {
      if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end())
        return absl::StrCat(to_absl(cpus_label), ": CPU ", cpu, " is not in this process's allowed set (",
                            absl::StrJoin(allowed, ","), ")");
    }
    if (requested_shards != 0 && requested_shards != static_cast<int>(requested_cpus.size()))
      return absl::StrCat(to_absl(shards_label), ": ", requested_shards, " does not match the ", requested_cpus.size(),
                          " CPUs given by ", to_absl(cpus_label), " (give one of them, or matching values)");
    out->cpus = requested_cpus;
  } else if (allowed.empty()) {
    return absl::StrCat(to_absl(cpus_label), ": cannot read this process's allowed CPU set");
  } else if (requested_shards != 0) {
    out->cpus.clear();
    for (int i = 0; i < requested_shards; ++i) out->cpus.push_back(allowed[i % allowed.size()]);
  } else {
    out->cpus = allowed;
  }
  out->shards = static_cast<int>(out->cpus.size());
  return "";
}

std::string usage_text() {
  std::string text = absl::StrCat(
      "ringsided ", to_absl(ringside_version()), " - Dapr-compatible service-invocation sidecar\n\n",
      "Usage: ringsided --app-id <id> [flags]\n",
      "Flags take one or two dashes, \"--flag value\" or \"--flag=value\".\n\n");
  for (const FlagSpec& f : kFlags) {
    absl::StrAppendFormat(&text, "  --%-36s %s (default %s)\n", f.name, f.help, f.default_text);
  }
  absl::StrAppend(&text, "  --", absl::StrFormat("%-36s", "help"), " print this help\n");
  absl::StrAppend(&text, "  --", absl::StrFormat("%-36s", "version"), " print the version\n");
  absl::StrAppend(&text,
                  "\nEnvironment: NAMESPACE (default \"default\"), DAPR_HOST_IP (address announced to name\n"
                  "resolution), APP_API_TOKEN, DAPR_API_TOKEN, RINGSIDE_NR_SQLITE (default SQLite name-\n"
                  "resolution file when the Configuration gives no connectionString).\n");
  return text;
}

FlagsOutcome parse_flags(int argc, const char* const* argv, Options* out, std::string* error) {
  Placement placement;

  read_environment(out);
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--")) {
      if (!absl::ConsumePrefix(&arg, "-") || arg.empty()) {
        *error = absl::StrCat(quoted(argv[i]), ": unexpected argument (flags start with --)");
        return FlagsOutcome::kUsageError;
      }
    }
    std::string_view name = to_std(arg);
    std::optional<std::string_view> value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "help" || name == "h") {
      std::fputs(usage_text().c_str(), stdout);
      return FlagsOutcome::kExitOk;
    }
    if (name == "version") {
      std::printf("%s\n", std::string(ringside_version()).c_str());
      return FlagsOutcome::kExitOk;
    }
    const FlagSpec* flag = find_flag(name);
    if (flag == nullptr) {
      *error = absl::StrCat("--", to_absl(name), ": unknown flag (see --help)");
      return FlagsOutcome::kUsageError;
    }
    if (!value) {
      if (flag->is_bool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        *error = absl::StrCat("--", to_absl(name), ": needs a value");
        return FlagsOutcome::kUsageError;
      }
    }
    std::string problem = flag->apply(*value, out, &placement);
    if (!problem.empty()) {
      *error = absl::StrCat("--", to_absl(name), ": ", problem);
      return FlagsOutcome::kUsageError;
    }
    out->flags_given.emplace(name);
  }
  std::string problem = check_combinations(*out);
  if (problem.empty()) problem = resolve_shard_cpus(placement.cpus, placement.shards, allowed_cpus(), "--cpus", "--shards", out);
  if (!problem.empty()) {
    *error = std::move(problem);
    return FlagsOutcome::kUsageError;
  }
  return FlagsOutcome::kRun;
}

}  // namespace ringside::config
