#pragma once
// SidecarSettings: everything the data plane needs to know about this sidecar. Built once by
// main before the shards start; shared read-only by every shard afterwards.
#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace ringside::invoke {

class AccessControlList;  // dataplane/mapping/access_control.h
class AppConcurrency;     // dataplane/callee/app_concurrency.h
}  // namespace ringside::invoke
namespace ringside::tls {  // issue 10, mTLS: dataplane/tls/
class CredentialStore;
}  // namespace ringside::tls
namespace ringside::resiliency {  // issue 10 (res): dataplane/resiliency/
class Policies;
class CircuitBreakers;
}  // namespace ringside::resiliency
namespace ringside::invoke {

struct SidecarSettings {
  std::string app_id;            // our own app id (--app-id)
  std::string app_namespace;     // our namespace (env NAMESPACE, default "default")
  std::string host_ip;           // address announced to peers and used in X-Forwarded-For
  std::string hostname;          // for X-Forwarded-Host / Forwarded host=
  // "for=<host_ip>;by=<host_ip>;host=<hostname>", the Forwarded value of every call: the same
  // for the whole process, so it is built once (set_forwarded) instead of per request.
  std::string forwarded;
  void set_forwarded() { forwarded = "for=" + host_ip + ";by=" + host_ip + ";host=" + hostname; }
  bool has_app = false;          // --app-port given
  std::string app_protocol;      // "http" or "grpc" (AppCallback/OnInvoke)
  sockaddr_in app_addr{};        // --app-channel-address:--app-port
  std::string app_authority;     // Host header toward the app, "127.0.0.1:8080"
  uint64_t max_body_size = 4u << 20;   // --max-body-size: request body limit, gRPC message limit
  uint32_t max_header_bytes = 4096;    // --read-buffer-size: HTTP head limit
  // HTTP API read deadlines (issue 10, slowloris): 0 = none.
  int64_t http_header_timeout_ns = 10'000'000'000;  // --http-header-timeout: a head, from its first byte
  int64_t http_body_timeout_ns = 30'000'000'000;    // --http-body-timeout: silence inside a body
  int64_t http_idle_timeout_ns = 300'000'000'000;   // --http-idle-timeout: keep-alive wait for a request
  uint32_t max_connections = 10000;                 // --max-connections: inbound per shard and port
  uint32_t max_app_connections = 1024; // per shard, like daprd's app channel pool
  int64_t graceful_shutdown_ns = 5'000'000'000;  // --dapr-graceful-shutdown-seconds
  int64_t lookup_wait_ns = 2'000'000'000;  // how long a call to an unknown app id waits for a lookup
                                           // (daprd's mDNS callers wait up to 2 s)
  // Peer connections (docs/peer-connections.md): per shard and peer address.
  uint32_t peer_max_connections = 8;     // --peer-max-connections: HTTP/2 connections per peer
  uint32_t peer_max_pending = 1024;      // --peer-max-pending: calls waiting for a stream per peer
  int64_t peer_idle_timeout_ns = 60'000'000'000;       // --peer-idle-timeout: extra connections
  int64_t peer_keepalive_interval_ns = 10'000'000'000; // --peer-keepalive-interval: silence before PING
  int64_t peer_keepalive_timeout_ns = 5'000'000'000;   // --peer-keepalive-timeout: PING answer bound
  int64_t peer_call_timeout_ns = 60'000'000'000;       // --peer-call-timeout: deadline of invocations
                                                        // without grpc-timeout; 0 = none
  uint32_t internal_max_concurrent_streams = 2048;     // --internal-max-concurrent-streams (SETTINGS)
  uint32_t shard_count = 1;  // --shards: advertised to ringside callers on the internal port
  std::string metadata_json;     // body of GET /v1.0/metadata (static for the process)
  std::string grpc_metadata_response;  // encoded GetMetadataResponse (gRPC API, static too)
  std::string runtime_version;   // reported in metadata
  // API tokens (spec §9; never logged). Empty = off.
  std::string dapr_api_token;    // DAPR_API_TOKEN: required from every API caller
  std::string app_api_token;     // APP_API_TOKEN: sent to our app as dapr-api-token
  // grpc-status-details-bin of daprd's UNAUTHENTICATED answers (built once at start-up):
  // ErrorInfo{reason "Unauthorized", domain dapr.io, http.code 401, http.error_message ...}.
  std::string grpc_token_missing_details;   // "missing api token in request metadata"
  std::string grpc_token_mismatch_details;  // "authentication error: api token mismatch"
  // spec.accessControl, enforced on calls delivered to our app; nullptr = everything allowed.
  std::shared_ptr<const AccessControlList> access_control;
  // --app-max-concurrency: permits shared by all shards (nullptr = unlimited), and the wait.
  AppConcurrency* app_concurrency = nullptr;
  uint32_t app_concurrency_queue = 1024;          // --app-concurrency-queue: waiting calls per shard
  int64_t app_concurrency_timeout_ns = 5'000'000'000;  // --app-concurrency-timeout
  // Issue 10, app health (--enable-app-health-check): the prober's verdict, written by its
  // thread (controlplane/apphealth) and read by shards with a relaxed load; nullptr = checks off.
  const std::atomic<bool>* app_healthy = nullptr;
  bool app_unhealthy() const { return app_healthy && !app_healthy->load(std::memory_order_relaxed); }
  // Issue 10 (res): Resiliency policies from --resources-path (nullptr = none: the built-in
  // retry only) and the circuit breakers shared by all shards (nullptr = no breaker policy).
  std::shared_ptr<const resiliency::Policies> resiliency;
  resiliency::CircuitBreakers* breakers = nullptr;
  // Issue 10, mTLS on the internal port (--enable-mtls): the credentials new connections use,
  // replaced on rotation (dataplane/tls/credential_store.h); nullptr = plaintext (h2c).
  const tls::CredentialStore* mtls = nullptr;
};

}  // namespace ringside::invoke
