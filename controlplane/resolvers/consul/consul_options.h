// Options of the consul resolver: `spec.nameResolution.configuration` as daprd reads it
// (components-contrib nameresolution/hashicorp/consul/configuration.go), plus ringside's own
// knobs under `configuration.ringside`. Keys match case-insensitively and unknown keys are
// ignored, as with daprd's encoding/json decoding.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/resolvers/consul/go_json.h"

namespace ringside::resolvers::consul {

// configuration.client (consul/api Config), after the Go client's defaults and environment
// (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_AUTH, CONSUL_HTTP_SSL).
struct ClientOptions {
  std::string address = "127.0.0.1:8500";  // host:port of the agent ("http://" prefix stripped)
  std::string path_prefix;                 // from "http://host:port/prefix" (API behind a gateway)
  std::string datacenter;                  // ?dc= on every request ("" = the agent's)
  std::string ns;                          // ?ns= (Consul Enterprise namespace)
  std::string partition;                   // ?partition= (Consul Enterprise)
  std::string token;                       // X-Consul-Token on every request
  std::string username;                    // HTTP basic auth (httpAuth.username)
  std::string password;                    // HTTP basic auth (httpAuth.password)
  bool basic_auth = false;                 // httpAuth given
  std::chrono::milliseconds wait_time{0};  // waitTime: ?wait= on every request (0 = Consul's 5 min)
};

// configuration.queryOptions (consul/api QueryOptions) as query parameters and headers.
struct QueryOptions {
  std::vector<std::pair<std::string, std::string>> params;  // encoded in order (dc, stale, cached, filter, ...)
  std::string token;                                         // X-Consul-Token overriding the client's
  std::string cache_control;                                 // Cache-Control (maxAge / staleIfError with cached)
  std::chrono::milliseconds wait_time{0};                    // waitTime: blocking-query bound (0 = client's)
};

struct ConsulOptions {
  ClientOptions client;                       // configuration.client
  QueryOptions query;                         // configuration.queryOptions (default {useCache: true})
  std::optional<Json> checks;                 // configuration.checks as AgentServiceCheck JSON (absent/empty = daprd's default check)
  Json tags;                                  // configuration.tags (null = none)
  Json meta;                                  // configuration.meta (null = none)
  std::optional<Json> advanced_registration;  // configuration.advancedRegistration: registered as given (+ DAPR_PORT meta)
  std::string dapr_port_meta_key = "DAPR_PORT";  // daprPortMetaKey
  bool self_register = false;                 // selfRegister
  bool self_deregister = false;               // selfDeregister
  bool use_cache = false;                     // useCache: blocking-query watch per app id

  // configuration.ringside (ours; daprd ignores it)
  std::chrono::milliseconds refresh_interval{5000};  // ringside.refreshInterval: re-query period without useCache
  std::chrono::milliseconds retry_initial{1000};     // ringside.retryInitial: first back-off after an error
  std::chrono::milliseconds retry_max{30000};        // ringside.retryMax: back-off cap
  std::chrono::milliseconds request_timeout{10000};  // ringside.requestTimeout: bound on a non-blocking request
};

// Reads an environment variable ("" = unset); injectable for tests.
using EnvLookup = std::function<std::string(std::string_view)>;
std::string process_env(std::string_view name);

// Parses the configuration YAML text ("" = none). Errors name the path, e.g.
// `spec.nameResolution.configuration.client.scheme: "https" is not supported by ringside yet`.
absl::StatusOr<ConsulOptions> parse_consul_options(std::string_view yaml_text, const EnvLookup& env = process_env);

}  // namespace ringside::resolvers::consul
