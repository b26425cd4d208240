#pragma once
// One HTTP health probe of the app, as daprd's HTTP app channel does it (HealthProbe):
// GET <app address><--app-health-check-path>; a 2xx status is a success, anything else
// (another status, refused connection, timeout, garbage) a failure. Blocking with a deadline:
// runs on the prober's own thread, never on a shard.
#include <netinet/in.h>

#include <chrono>
#include <string>

namespace ringside::apphealth {

struct HttpProbeTarget {
  sockaddr_in address{};       // the app (--app-channel-address:--app-port)
  std::string authority;       // Host header, "127.0.0.1:8080"
  std::string path;            // --app-health-check-path, "/healthz"
  std::string app_api_token;   // APP_API_TOKEN, sent as dapr-api-token like every app call ("" = none)
};

// The HTTP status the app answered, or -1 when there was no answer within `timeout`
// (connect, send and the status line together).
int http_probe_status(const HttpProbeTarget& target, std::chrono::milliseconds timeout);

// daprd's rule: 200 <= status < 300.
inline bool http_status_is_healthy(int status) { return status >= 200 && status < 300; }

}  // namespace ringside::apphealth
