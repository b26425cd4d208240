// Test helpers for ringside-sync end to end: one synchronizer process with its config file, and
// a real gRPC Subscribe client that keeps the table it was sent (FULL then DELTAs applied).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "controlplane/sync/table_delta.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e::sync {

namespace v1 = ::ringside::sync::v1;

struct PeerSpec {
  std::string cluster;      // the peer's cluster
  uint16_t grpc_port = 0;   // its synchronizer on 127.0.0.1
  std::string token;        // shared token
  uint16_t dead_port_first = 0;  // nonzero: list 127.0.0.1:<this> (nobody listening) before the live address
};

struct SyncSpec {
  std::string cluster;                 // our cluster
  uint16_t grpc_port = 0;              // --listen 127.0.0.1:<port>
  uint16_t metrics_port = 0;           // metricsPort
  std::string name_resolution_yaml;    // the nameResolution block (indented by 2)
  std::vector<PeerSpec> peers;         // peers
  std::string subscriber_token;        // subscriberToken
  std::string heartbeat = "200ms";     // heartbeatInterval
  std::string export_ttl = "1500ms";   // exportTtl
  std::string extra_yaml;              // more top-level keys, verbatim
};

// Writes <dir>/<cluster>-sync.yaml and starts ringside-sync with it; waits for /healthz.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartSync(const SyncSpec& spec, const TempDir& dir);

// GET <path> on 127.0.0.1:<port> (the metrics server).
absl::StatusOr<blocking_http::HttpMessage> HttpGet(uint16_t port, const std::string& path);

// A sidecar-like Subscribe client on its own thread.
class Subscriber {
 public:
  Subscriber(uint16_t sync_port, std::string cluster, std::string token);
  ~Subscriber();  // Stop()

  using Clock = std::chrono::steady_clock;
  struct Received {
    v1::TableUpdate update;     // as sent
    Clock::time_point at;       // when it arrived
  };

  // Waits until `done(table)` holds for the table built from the updates so far; returns the
  // time it first held, or nullopt after `timeout` (or when the stream ended).
  std::optional<Clock::time_point> WaitFor(const std::function<bool(const ringside::sync::Table&)>& done,
                                           std::chrono::milliseconds timeout);
  // Waits for the stream to end; its status.
  std::optional<grpc::Status> WaitEnd(std::chrono::milliseconds timeout);
  std::vector<Received> updates() const;
  ringside::sync::Table table() const;
  void Stop();

 private:
  void run();

  const uint16_t port_;                  // the synchronizer
  const std::string cluster_, token_;    // SubscribeRequest.cluster and the bearer token
  grpc::ClientContext ctx_;              // the call (TryCancel on Stop)
  mutable std::mutex mu_;                // guards everything below
  std::condition_variable cv_;           // an update arrived or the stream ended
  std::vector<Received> updates_;        // every update in arrival order
  ringside::sync::Table table_;          // what a sidecar would hold
  uint64_t version_ = 0;                 // its version
  std::string epoch_;                    // its epoch
  std::string protocol_error_;           // a DELTA whose base_version did not match, etc.
  std::optional<grpc::Status> end_;      // set when the stream ended
  std::thread thread_;                   // the reading thread
 public:
  std::string protocol_error() const;
};

// An instance of `app` at `address` in `cluster` is in the table.
std::function<bool(const ringside::sync::Table&)> Has(std::string cluster, std::string app, std::string address);
std::function<bool(const ringside::sync::Table&)> Lacks(std::string cluster, std::string app, std::string address);

}  // namespace ringside::e2e::sync
