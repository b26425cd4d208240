// Runs tests/support/consul_api_double/consul_api_double.py (a Consul HTTP API double; no
// Consul server ships in Debian) as a child process on 127.0.0.1 and talks to it. Only the
// process started here is ever signalled (by pid). Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringside::testing {

struct DoubleResponse {
  long status = 0;     // HTTP status (0 = no answer)
  std::string body;    // response body
};

class ConsulApiDouble {
 public:
  // extra_args: e.g. {"--token", "secret"}.
  explicit ConsulApiDouble(std::vector<std::string> extra_args = {});
  ~ConsulApiDouble();  // stop()
  ConsulApiDouble(const ConsulApiDouble&) = delete;
  ConsulApiDouble& operator=(const ConsulApiDouble&) = delete;

  // Starts on a free port (first start) or on the port it had before (restart); waits up to
  // 10 s for it to listen. State starts empty, like a restarted dev agent.
  absl::Status start();
  // SIGKILL by pid and reap. Idempotent.
  void stop();
  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Blocking HTTP to the double (libcurl; 5 s bound). `token` goes in X-Consul-Token.
  DoubleResponse get(std::string_view path, std::string_view token = {}) const;
  DoubleResponse put(std::string_view path, std::string_view json_body, std::string_view token = {}) const;

 private:
  std::vector<std::string> extra_args_;  // passed to the script
  std::string dir_;                      // temp dir for the port file and the log
  pid_t pid_ = -1;                       // the python process
  uint16_t port_ = 0;                    // where it listens (kept across restarts)
};

}  // namespace ringside::testing
