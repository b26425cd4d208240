// The standard end-to-end topology: echo app, sidecar "b" in front of it, sidecar "a" without
// an app, sharing one SQLite registry in a per-topology temp dir (so no other sidecar is seen).
//
//   client ──HTTP──► a (no app) ──gRPC CallLocal──► b ──HTTP──► ringside-echo-app
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {

struct TopologyOptions {
  std::string binary = "ringsided";  // sidecar executable for both a and b
  std::string max_body_size;         // --max-body-size for both; empty = default
  std::string shards;                // --shards for both; empty = RINGSIDE_E2E_SHARDS (default 1)
  std::string caller_shards;         // --shards for a only; empty = as `shards`
};

struct Topology {
  std::unique_ptr<TempDir> dir;        // logs and the registry file
  std::string nr_db;                   // RINGSIDE_NR_SQLITE of both sidecars
  std::unique_ptr<ChildProcess> app;   // ringside-echo-app
  uint16_t app_port = 0;               // where the app listens
  Sidecar b;                           // --app-id b --app-port <app_port>
  Sidecar a;                           // --app-id a, no app

  // Starts everything and waits (bounded) until a can invoke b.
  absl::Status Start(const TopologyOptions& options = {});
  // Log tails of every process, for failure messages.
  std::string Logs() const;
};

}  // namespace ringside::e2e
