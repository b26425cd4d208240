#include "tests/e2e/grpc_helpers.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace ringside::e2e {

absl::StatusOr<std::unique_ptr<ChildProcess>> StartGrpcEchoApp(const TempDir& dir, uint16_t* port) {
  if (!BinaryExists("ringside-grpc-echo-app")) {
    return absl::NotFoundError(absl::StrCat(BinPath("ringside-grpc-echo-app"), " is not built"));
  }
  *port = PickFreePort();
  auto app = ChildProcess::Spawn(BinPath("ringside-grpc-echo-app"), {"--port", absl::StrCat(*port)}, {},
                                 dir.File(absl::StrCat("grpc-echo-app-", *port, ".log")));
  if (!app.ok()) return app.status();
  // A TCP probe, not a gRPC call: the harness forks more children after this, and nothing of
  // gRPC C++ should be running in this process before the last fork.
  if (!WaitForListening(*port, 10s)) {
    return absl::DeadlineExceededError(
        absl::StrCat("gRPC echo app not listening on ", *port, "; log:\n", (*app)->LogTail()));
  }
  return app;
}

std::shared_ptr<grpc::Channel> LocalChannel(uint16_t port) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // A channel per test run: don't share subchannels between channels of one test binary, so a
  // broken connection in one test cannot leak into the next.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), args);
}

void SetTimeout(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
}

void PrepareProxyCall(grpc::ClientContext* context, std::string_view app_id, std::chrono::milliseconds timeout) {
  context->AddMetadata("dapr-app-id", std::string(app_id));
  SetTimeout(context, timeout);
}

absl::Status GrpcTopology::Start(const GrpcTopologyOptions& options) {
  dir = std::make_unique<TempDir>();
  if (dir->path().empty()) return absl::InternalError("cannot create a temp dir");
  nr_db = dir->File("nr.db");

  if (options.with_grpc_app) {
    auto started_grpc_app = StartGrpcEchoApp(*dir, &grpc_app_port);
    if (!started_grpc_app.ok()) return started_grpc_app.status();
    grpc_app = std::move(*started_grpc_app);
    // app_port stays empty: the harness would add --app-protocol http.
    SidecarOptions b_options{
        .app_id = "b", .nr_db = nr_db, .max_body_size = options.max_body_size,
        .extra_args = {"--app-port", absl::StrCat(grpc_app_port), "--app-protocol", "grpc"},
        .shards = options.b_shards};
    if (!options.app_api_token.empty()) b_options.env.push_back("APP_API_TOKEN=" + options.app_api_token);
    auto started_b = StartSidecar(b_options, *dir);
    if (started_b.ok()) {
      b = std::move(*started_b);
      const Clock::time_point registered_by = Clock::now() + 15s;
      while (CountRegistryRows(nr_db, "b") < 1 && Clock::now() < registered_by) std::this_thread::sleep_for(50ms);
      if (CountRegistryRows(nr_db, "b") < 1) b_status = absl::DeadlineExceededError("b not registered within 15 s");
    } else {
      b_status = started_b.status();
    }
  } else {
    b_status = absl::FailedPreconditionError("this topology has no sidecar b");
  }

  if (options.with_http_app) {
    auto started_http_app = StartEchoApp(*dir, &http_app_port);
    if (!started_http_app.ok()) return started_http_app.status();
    http_app = std::move(*started_http_app);
    SidecarOptions c_options{.app_id = "c", .app_port = http_app_port, .nr_db = nr_db,
                             .max_body_size = options.max_body_size};
    if (!options.app_api_token.empty()) c_options.env.push_back("APP_API_TOKEN=" + options.app_api_token);
    auto started_c = StartSidecar(c_options, *dir);
    if (!started_c.ok()) return started_c.status();
    c = std::move(*started_c);
  }

  SidecarOptions a_options{.app_id = "a", .nr_db = nr_db, .max_body_size = options.max_body_size,
                           .shards = options.a_shards};
  std::vector<std::pair<std::string, std::string>> a_headers;  // what every call to a carries
  if (!options.a_api_token.empty()) {
    a_options.env.push_back("DAPR_API_TOKEN=" + options.a_api_token);
    a_headers.emplace_back("dapr-api-token", options.a_api_token);
  }
  auto started_a = StartSidecar(a_options, *dir);
  if (!started_a.ok()) return started_a.status();
  a = std::move(*started_a);

  // HTTP → HTTP is issue 2 (landed): once a reaches c, a's table also holds b, which registered
  // first. Without the HTTP app, give a's control plane a few refresh periods (500 ms each).
  if (options.with_http_app) {
    if (!WaitUntilInvocable(a.ports.http, "c", 15s, a_headers)) {
      return absl::DeadlineExceededError(absl::StrCat("a could not invoke c within 15 s\n", Logs()));
    }
  } else if (b_status.ok()) {
    std::this_thread::sleep_for(2s);
  }
  return absl::OkStatus();
}

std::string GrpcTopology::Logs() const {
  std::string out;
  if (grpc_app) absl::StrAppend(&out, "--- gRPC echo app log:\n", grpc_app->LogTail(1500), "\n");
  if (http_app) absl::StrAppend(&out, "--- HTTP echo app log:\n", http_app->LogTail(1500), "\n");
  if (b.process) absl::StrAppend(&out, "--- sidecar b log:\n", b.process->LogTail(), "\n");
  if (c.process) absl::StrAppend(&out, "--- sidecar c log:\n", c.process->LogTail(), "\n");
  if (a.process) absl::StrAppend(&out, "--- sidecar a log:\n", a.process->LogTail(), "\n");
  return out;
}

absl::StatusOr<testpb::StatsResponse> GrpcTopology::AppStats() const {
  auto stub = testpb::Echo::NewStub(LocalChannel(grpc_app_port));
  grpc::ClientContext context;
  SetTimeout(&context, 5s);
  testpb::StatsResponse stats;
  const grpc::Status status = stub->Stats(&context, testpb::StatsRequest(), &stats);
  if (!status.ok()) return absl::UnavailableError(absl::StrCat("Stats: ", Describe(status)));
  return stats;
}

bool GrpcTopology::WaitForAppStats(const std::function<bool(const testpb::StatsResponse&)>& done,
                                   std::chrono::milliseconds timeout, testpb::StatsResponse* last) const {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    auto stats = AppStats();
    if (stats.ok()) {
      *last = *stats;
      if (done(*stats)) return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

GrpcTopology* GrpcTopologyTest::topology_ = nullptr;
absl::Status* GrpcTopologyTest::start_status_ = nullptr;

void GrpcTopologyTest::StartTopology(const GrpcTopologyOptions& options) {
  topology_ = new GrpcTopology;
  start_status_ = new absl::Status(topology_->Start(options));
}

void GrpcTopologyTest::StopTopology() {
  delete topology_;  // kills and reaps every process it started
  delete start_status_;
  topology_ = nullptr;
  start_status_ = nullptr;
}

void GrpcTopologyTest::SetUp() {
  ASSERT_NE(start_status_, nullptr) << "the suite did not call StartTopology";
  ASSERT_TRUE(start_status_->ok()) << *start_status_;
  if (NeedsSidecarB()) {
    ASSERT_TRUE(topology_->b_status.ok()) << "sidecar b is down: " << topology_->b_status;
  }
}

void GrpcTopologyTest::TearDown() {
  if (HasFailure() && topology_ != nullptr && start_status_ != nullptr && start_status_->ok()) {
    std::cerr << topology_->Logs();
  }
}

std::vector<std::string> MetadataValues(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                                        std::string_view key) {
  std::vector<std::string> out;
  const auto [begin, end] = metadata.equal_range(grpc::string_ref(key.data(), key.size()));
  for (auto it = begin; it != end; ++it) out.emplace_back(it->second.data(), it->second.size());
  return out;
}

std::vector<std::string> MetadataValues(const google::protobuf::RepeatedPtrField<testpb::MetadataEntry>& metadata,
                                        std::string_view key) {
  std::vector<std::string> out;
  for (const auto& entry : metadata) {
    if (entry.key() == key) out.push_back(entry.value());
  }
  return out;
}

std::optional<testpb::RpcStatus> StatusDetails(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  testpb::RpcStatus details;
  if (!details.ParseFromString(status.error_details())) return std::nullopt;
  return details;
}

std::string Describe(const grpc::Status& status) {
  static constexpr const char* kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  const char* name = code >= 0 && code <= 16 ? kNames[code] : "?";
  return absl::StrCat(name, " (", code, "): ", status.error_message());
}

std::optional<double> JsonNumberField(const std::string& json, const std::string& key) {
  google::protobuf::Struct root;
  if (!google::protobuf::util::JsonStringToMessage(json, &root).ok()) return std::nullopt;
  auto it = root.fields().find(key);
  if (it == root.fields().end() || !it->second.has_number_value()) return std::nullopt;
  return it->second.number_value();
}

}  // namespace ringside::e2e
