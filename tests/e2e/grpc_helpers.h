// Helpers for the end-to-end tests of ringside's gRPC surfaces (issue 3): the gRPC test app
// (ringside-grpc-echo-app), a topology with a gRPC app and an HTTP app behind sidecars, and
// small accessors for gRPC metadata and statuses. gRPC C++ is the real peer here.
//
//   gRPC/HTTP client ──► a (no app) ──► b (--app-protocol grpc) ──► ringside-grpc-echo-app
//                                  └──► c (--app-protocol http) ──► ringside-echo-app
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringside/test/v1/echo.grpc.pb.h"
#include "tests/e2e/harness.h"

namespace ringside::e2e {

namespace testpb = ringside::test::v1;

// Starts ringside-grpc-echo-app on a free port and waits until it accepts connections.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartGrpcEchoApp(const TempDir& dir, uint16_t* port);

// An insecure channel to 127.0.0.1:`port` without message size limits (the sidecars enforce theirs).
std::shared_ptr<grpc::Channel> LocalChannel(uint16_t port);

// Sets a deadline `timeout` from now: every call in these tests is bounded.
void SetTimeout(grpc::ClientContext* context, std::chrono::milliseconds timeout);

// Adds `dapr-app-id: <app_id>` (spec §4.3) and a deadline `timeout` from now.
void PrepareProxyCall(grpc::ClientContext* context, std::string_view app_id,
                      std::chrono::milliseconds timeout = 10s);

// How to start the topology.
struct GrpcTopologyOptions {
  std::string max_body_size;  // --max-body-size for every sidecar; empty = default
  bool with_grpc_app = true;  // start ringside-grpc-echo-app behind sidecar b
  bool with_http_app = true;  // start ringside-echo-app behind sidecar c
  std::string a_api_token;    // DAPR_API_TOKEN of sidecar a (the caller); empty = off
  std::string app_api_token;  // APP_API_TOKEN of sidecars b and c (sent to their apps)
  std::string a_shards;       // --shards of a; empty = RINGSIDE_E2E_SHARDS (default 1)
  std::string b_shards;       // --shards of b; empty = RINGSIDE_E2E_SHARDS (default 1)
};

// The gRPC test app behind b, the HTTP echo app behind c, a without app; one SQLite registry.
struct GrpcTopology {
  std::unique_ptr<TempDir> dir;             // logs and the registry file
  std::string nr_db;                        // RINGSIDE_NR_SQLITE of every sidecar
  std::unique_ptr<ChildProcess> grpc_app;   // ringside-grpc-echo-app (with_grpc_app)
  uint16_t grpc_app_port = 0;               // where the gRPC app listens
  std::unique_ptr<ChildProcess> http_app;   // ringside-echo-app (with_http_app)
  uint16_t http_app_port = 0;               // where the HTTP app listens
  Sidecar b;                                // --app-id b --app-protocol grpc (with_grpc_app)
  Sidecar c;                                // --app-id c --app-protocol http (with_http_app)
  Sidecar a;                                // --app-id a, no app
  absl::Status b_status;                    // why b is not up (a sidecar without gRPC apps
                                            // refuses --app-protocol grpc); OK when it is

  // Starts everything; waits (bounded) until b is registered and a's table has caught up.
  // Uses no issue-3 feature, so it succeeds while those are missing; a b that does not come up
  // is recorded in b_status instead of failing the start, so tests without b still run.
  absl::Status Start(const GrpcTopologyOptions& options = {});
  // Log tails of every process, for failure messages.
  std::string Logs() const;
  // The gRPC app's counters, asked directly (not through a sidecar).
  absl::StatusOr<testpb::StatsResponse> AppStats() const;
  // Polls AppStats until `done` holds or `timeout` passes; the last answer in `last`.
  bool WaitForAppStats(const std::function<bool(const testpb::StatsResponse&)>& done,
                       std::chrono::milliseconds timeout, testpb::StatsResponse* last) const;
};

// Base fixture: one GrpcTopology per test suite. A suite calls StartTopology from its
// SetUpTestSuite and StopTopology from its TearDownTestSuite; each test then fails fast if the
// start failed (or b is down and the fixture needs it) and prints every log tail when it fails.
class GrpcTopologyTest : public ::testing::Test {
 protected:
  static void StartTopology(const GrpcTopologyOptions& options);
  static void StopTopology();
  void SetUp() override;
  void TearDown() override;
  // Fixtures whose tests never reach sidecar b say so, and run even when b is down.
  virtual bool NeedsSidecarB() const { return true; }
  static GrpcTopology& topology() { return *topology_; }

 private:
  static GrpcTopology* topology_;     // the suite's processes; null outside a suite
  static absl::Status* start_status_;  // how StartTopology went
};

// Every value of `key` in metadata received by a client, in order.
std::vector<std::string> MetadataValues(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                                        std::string_view key);
// Every value of `key` in metadata the gRPC app reported.
std::vector<std::string> MetadataValues(const google::protobuf::RepeatedPtrField<testpb::MetadataEntry>& metadata,
                                        std::string_view key);

// The google.rpc.Status a failed call carried in grpc-status-details-bin; nullopt if none.
std::optional<testpb::RpcStatus> StatusDetails(const grpc::Status& status);

// "CODE_NAME (n): message" for assertion messages.
std::string Describe(const grpc::Status& status);

// A number field at the top level of a JSON object; nullopt if absent or not JSON.
std::optional<double> JsonNumberField(const std::string& json, const std::string& key);

}  // namespace ringside::e2e
