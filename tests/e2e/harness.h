// Harness for end-to-end tests that run ringside binaries as real processes on 127.0.0.1.
// Every wait is bounded; only processes this harness started are ever signalled.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/blocking_http/http_connection.h"

namespace ringside::e2e {

using blocking_http::BlockingHttpConnection;
using blocking_http::Clock;
using blocking_http::HttpMessage;
using blocking_http::RequestSpec;
using namespace std::chrono_literals;

// Absolute path of an executable in build/bin (RINGSIDE_BIN_DIR).
std::string BinPath(std::string_view name);
bool BinaryExists(std::string_view name);

// A free port below the ephemeral range, handed out once per pass across all test processes
// (tests/support/free_port/free_port.h).
uint16_t PickFreePort();

// A fresh directory under $TMPDIR, removed with its contents on destruction
// (kept when RINGSIDE_E2E_KEEP is set, for debugging).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;  // absolute path of the directory
};

// A child process in its own process group, stdout+stderr to a log file.
class ChildProcess {
 public:
  // fork/exec with setpgid; `env` entries ("K=V") are added to (or override) our environment.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::string& path,
                                                             const std::vector<std::string>& args,
                                                             const std::vector<std::string>& env,
                                                             const std::string& log_path);
  ~ChildProcess();  // SIGKILLs the group if still running, then reaps
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal` to the child (not to anything else).
  void Signal(int signal);
  // Exit code (128+signal if killed by one) once it has exited, nullopt on timeout.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  bool Alive();
  // The log so far, and its last `max_bytes` bytes for failure messages.
  std::string Log() const;
  std::string LogTail(size_t max_bytes = 4000) const;
  const std::string& log_path() const { return log_path_; }

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;                       // child pid (= its process group id)
  std::optional<int> exit_code_;    // set once reaped
  std::string log_path_;            // file receiving stdout and stderr
};

// Shards per sidecar in this run: $RINGSIDE_E2E_SHARDS, else "1" (CTest runs every e2e test
// both ways; the two-shard copies are named shards2.*).
std::string E2eShards();

// Waits for GET /v1.0/healthz → 204 on `http_port`.
bool WaitForHealthz(uint16_t http_port, std::chrono::milliseconds timeout);
// Waits until something accepts TCP connections on `port`.
bool WaitForListening(uint16_t port, std::chrono::milliseconds timeout);

// The ports of one sidecar.
struct SidecarPorts {
  uint16_t http = 0;      // --dapr-http-port
  uint16_t grpc = 0;      // --dapr-grpc-port
  uint16_t internal = 0;  // --dapr-internal-grpc-port
  uint16_t metrics = 0;   // --metrics-port
};

// How to start one sidecar.
struct SidecarOptions {
  std::string binary = "ringsided";     // executable in build/bin
  std::string app_id;                   // --app-id
  std::optional<uint16_t> app_port;     // --app-port (and --app-protocol http); none = no app
  std::string nr_db;                    // RINGSIDE_NR_SQLITE; empty = not set
  std::string max_body_size;            // --max-body-size; empty = default
  std::vector<std::string> extra_args;  // appended as given
  std::vector<std::string> env;         // extra environment entries, "NAME=value"
  std::string shards;                   // --shards; empty = RINGSIDE_E2E_SHARDS (default 1)
};

// A started sidecar.
struct Sidecar {
  std::unique_ptr<ChildProcess> process;  // the ringsided process
  SidecarPorts ports;                     // where it listens
  std::string app_id;                     // its --app-id
};

// Picks free ports (or uses `ports` where non-zero), spawns, waits for healthz (15 s).
absl::StatusOr<Sidecar> StartSidecar(const SidecarOptions& options, const TempDir& dir,
                                     SidecarPorts ports = {});
// Starts ringside-echo-app on a free port and waits until it accepts connections.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartEchoApp(const TempDir& dir, uint16_t* port);

// One request on a fresh connection.
absl::StatusOr<HttpMessage> Send(uint16_t port, const RequestSpec& spec,
                                 std::chrono::milliseconds timeout = 10s);
// `method` /v1.0/invoke/<app_id>/method/<path_and_query> on `port`.
absl::StatusOr<HttpMessage> Invoke(uint16_t port, std::string_view method, std::string_view app_id,
                                   std::string_view path_and_query, std::string body = {},
                                   std::vector<std::pair<std::string, std::string>> headers = {},
                                   std::chrono::milliseconds timeout = 10s);
// Polls POST /v1.0/invoke/<app_id>/method/echo through `caller_http_port` until it answers 200
// (with `headers` on every call, e.g. the caller's dapr-api-token).
bool WaitUntilInvocable(uint16_t caller_http_port, std::string_view app_id,
                        std::chrono::milliseconds timeout,
                        const std::vector<std::pair<std::string, std::string>>& headers = {});

// Value of the Prometheus metric `name` on /metrics: the sample without a shard label (the
// process total) if there is one, else the sum over shards; nullopt if absent.
std::optional<double> ReadMetric(uint16_t metrics_port, std::string_view name);

// Rows for `app_id` in the SQLite registry's `hosts` table; -1 if the table cannot be read.
int CountRegistryRows(const std::string& db_path, std::string_view app_id);

// Top-level string field of a JSON object; "" if absent or the text is not JSON.
std::string JsonStringField(const std::string& json, const std::string& key);

// Random bytes (all 256 values), deterministic for a seed.
std::string RandomBytes(size_t size, uint32_t seed);

// Peak resident set size of process `pid` (VmHWM in /proc/<pid>/status), in bytes; 0 if it
// cannot be read.
uint64_t PeakRssBytes(pid_t pid);
// Resident set size now (VmRSS) of a process we started, in bytes; 0 if unreadable.
uint64_t ResidentBytes(pid_t pid);

// Sends `count` POST invocations of b's `echo` method through the HTTP port `port` over
// `connections` keep-alive connections, bodies of (i % 4) * body_step bytes (several buffer
// size classes); returns how many connections stopped on a failure (0 = every call echoed).
int DriveEchoInvocations(uint16_t port, int count, int connections, size_t body_step);

// The general form of DriveEchoInvocations: invocation i sends a body of
// body_sizes[i % body_sizes.size()] bytes, with a Content-Length or (chunked) in
// Transfer-Encoding: chunked pieces of at most 64 KiB (the sidecar streams those as
// CallLocalStream); every answer must echo the body. Returns the connections that failed.
struct EchoLoad {
  int count = 0;                   // invocations in all
  int connections = 1;             // keep-alive connections, each in its own thread
  std::vector<size_t> body_sizes;  // cycled through; empty = {0}
  bool chunked = false;            // Transfer-Encoding: chunked instead of Content-Length
};
int DriveEchoLoad(uint16_t port, const EchoLoad& load);

// Each shard's value of a per-shard metric (index = its shard label); -1 where missing.
std::vector<double> ReadMetricPerShard(uint16_t metrics_port, std::string_view name, int shards);

}  // namespace ringside::e2e
