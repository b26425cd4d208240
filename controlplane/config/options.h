// Command-line options of ringsided: daprd's flag names and defaults (spec §8) plus
// ringside's own data-plane knobs. Parsed once at start-up on the main thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ringside::config {

// ringside's own version, reported by --version and the metadata endpoint.
std::string_view ringside_version();

struct Options {
  // --- app identity and app channel ---
  std::string app_id;                          // --app-id: our app's id (no dots)
  std::optional<uint16_t> app_port;            // --app-port: app's port; nullopt = no app
  std::string app_protocol = "http";           // --app-protocol: http|https|h2c|grpc|grpcs, lower-case
  std::string app_channel_address = "127.0.0.1";  // --app-channel-address: host of the app
  int app_max_concurrency = -1;                // --app-max-concurrency: -1 = unlimited
  uint32_t app_concurrency_queue = 1024;       // --app-concurrency-queue: waiting calls per shard
  std::chrono::milliseconds app_concurrency_timeout{5000};  // --app-concurrency-timeout: longest wait
  // Issue 10, limits (0 = none).
  std::chrono::milliseconds http_header_timeout{10000};   // --http-header-timeout: a head from its first byte
  std::chrono::milliseconds http_body_timeout{30000};     // --http-body-timeout: silence inside a body
  std::chrono::milliseconds http_idle_timeout{300000};    // --http-idle-timeout: idle keep-alive connection
  uint32_t max_connections = 10000;                       // --max-connections: inbound connections per shard

  // --- app health checks (issue 10: controlplane/apphealth, docs/app-health.md) ---
  bool enable_app_health_check = false;        // --enable-app-health-check
  std::string app_health_check_path = "/healthz";  // --app-health-check-path (HTTP apps)
  std::chrono::milliseconds app_health_probe_interval{5000};  // --app-health-probe-interval
  std::chrono::milliseconds app_health_probe_timeout{500};    // --app-health-probe-timeout
  int app_health_threshold = 3;                // --app-health-threshold: consecutive failures

  // --- listeners ---
  uint16_t dapr_http_port = 3500;              // --dapr-http-port: HTTP API
  uint16_t dapr_grpc_port = 50001;             // --dapr-grpc-port: gRPC API
  uint16_t dapr_internal_grpc_port = 0;        // --dapr-internal-grpc-port: 0 = pick a free port
  std::string dapr_internal_grpc_listen_address;  // --dapr-internal-grpc-listen-address: "" = all
  std::vector<std::string> dapr_listen_addresses{"127.0.0.1"};  // --dapr-listen-addresses (ringside default: loopback only)
  uint16_t metrics_port = 9090;                // --metrics-port
  std::string metrics_listen_address = "0.0.0.0";  // --metrics-listen-address (daprd's default)
  bool enable_metrics = true;                  // --enable-metrics

  // --- limits ---
  uint64_t max_body_size = 4ull << 20;         // --max-body-size: bytes (from a quantity, 4Mi)
  uint64_t read_buffer_size = 4ull << 10;      // --read-buffer-size: bytes of HTTP headers (4Ki)

  // --- runtime ---
  std::string config_path;                     // --config: Configuration YAML; "" = defaults
  std::vector<std::string> resources_paths;    // --resources-path (repeatable): Resiliency resources (issue 10)
  std::string log_level = "info";              // --log-level: debug|info|warn|error|fatal
  bool log_as_json = false;                    // --log-as-json
  std::string mode = "standalone";             // --mode: only standalone is supported
  std::chrono::seconds graceful_shutdown{5};   // --dapr-graceful-shutdown-seconds

  // --- ringside data plane (flags win over spec.ringside.dataplane in the Configuration) ---
  std::vector<int> cpus;                       // --cpus: final CPU per shard (size == shards)
  int shards = 0;                              // --shards: final shard count (== cpus.size())
  uint32_t ring_entries = 1024;                // --ring-entries: io_uring SQ entries per shard
  uint32_t buffer_size = 16384;                // --buffer-size: bytes per provided recv buffer
  uint32_t buffer_count = 1024;                // --buffer-count: provided recv buffers per shard
  bool sqpoll = false;                         // --sqpoll: IORING_SETUP_SQPOLL
  int sqpoll_cpu = -1;                         // --sqpoll-cpu: CPU for the SQPOLL thread; -1 = kernel picks
  std::vector<int> sqpoll_cpus;                // --sqpoll-cpus: poller CPU per shard (one when shared); empty = sqpoll_cpu
  bool sqpoll_shared = false;                  // --sqpoll-shared: one poller for all shards (IORING_SETUP_ATTACH_WQ)
  uint32_t sqpoll_idle_ms = 100;               // --sqpoll-idle-ms: poller sleeps after this long idle
  uint32_t busy_poll_us = 0;                   // --busy-poll-us: spin for completions before sleeping; 0 = off
  bool print_layout = false;                   // --print-layout: print thread→CPU placement and exit 0

  // --- ringside peer connections (docs/peer-connections.md); per shard and peer ---
  uint32_t peer_max_connections = 8;           // --peer-max-connections: HTTP/2 connections (1..64)
  uint32_t peer_max_pending = 1024;            // --peer-max-pending: calls waiting for a stream
  std::chrono::milliseconds peer_idle_timeout{60000};       // --peer-idle-timeout: extra connections
  std::chrono::milliseconds peer_keepalive_interval{10000}; // --peer-keepalive-interval
  std::chrono::milliseconds peer_keepalive_timeout{5000};   // --peer-keepalive-timeout
  std::chrono::milliseconds peer_call_timeout{60000};       // --peer-call-timeout: 0 = none
  uint32_t internal_max_concurrent_streams = 2048;  // --internal-max-concurrent-streams

  // --- issue 10: mTLS on the internal port (docs/security.md "mTLS") ---
  bool enable_mtls = false;                    // --enable-mtls (daprd's flag)
  std::string tls_cert_file;                   // --tls-cert-file: PEM certificate chain (our SVID)
  std::string tls_key_file;                    // --tls-key-file: PEM private key
  std::string tls_trust_anchors_file;          // --tls-trust-anchors-file: PEM CA certificates
  std::chrono::milliseconds tls_reload_interval{5000};  // --tls-reload-interval: how often the files are looked at

  // --- environment (spec §8) ---
  std::string app_namespace = "default";       // NAMESPACE: our namespace
  std::string host_ip;                         // DAPR_HOST_IP: address announced to name resolution
  std::string app_api_token;                   // APP_API_TOKEN: sent to the app as dapr-api-token
  std::string dapr_api_token;                  // DAPR_API_TOKEN: required from API clients when set

  // Canonical names (without dashes) of the flags given on the command line, so a
  // Configuration file can fill only what flags left unset.
  std::set<std::string, std::less<>> flags_given;

  bool flag_given(std::string_view name) const { return flags_given.count(name) != 0; }
};

enum class FlagsOutcome {
  kRun,         // options parsed; start the sidecar
  kExitOk,      // --help or --version was printed; exit 0
  kUsageError,  // *error says which flag and why; exit 1
};

// Parses argv (argv[0] is the program name) and the environment into *out.
// Flags may use one or two dashes, "--flag value" or "--flag=value"; booleans accept
// "--flag" and "--flag=true|false". On kUsageError, *error names the flag and the problem,
// e.g. `--dapr-http-port: "abc" is not a port number`. --help/--version print to stdout.
FlagsOutcome parse_flags(int argc, const char* const* argv, Options* out, std::string* error);

// The --help text: every flag with its default and a one-line description.
std::string usage_text();

// CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

// Settles out->cpus/shards from what was requested: explicit CPUs must be allowed; with only a
// shard count, shards are spread over the allowed CPUs round-robin (oversubscribing when the
// count exceeds them); with neither, one shard per allowed CPU. `requested_shards` 0 = not
// given. The labels name the sources in messages ("--cpus", "spec.ringside.dataplane.cpus").
// Returns "" or an error message.
std::string resolve_shard_cpus(const std::vector<int>& requested_cpus, int requested_shards,
                               const std::vector<int>& allowed, std::string_view cpus_label,
                               std::string_view shards_label, Options* out);

}  // namespace ringside::config
