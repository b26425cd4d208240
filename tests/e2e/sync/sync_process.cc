#include "tests/e2e/sync/sync_process.h"

#include <fstream>

#include "absl/strings/str_cat.h"

namespace ringside::e2e::sync {

absl::StatusOr<std::unique_ptr<ChildProcess>> StartSync(const SyncSpec& spec, const TempDir& dir) {
  const std::string path = dir.File(spec.cluster + "-sync.yaml");
  {
    std::ofstream out(path);
    out << "cluster: " << spec.cluster << "\n"
        << "listen: 127.0.0.1:" << spec.grpc_port << "\n"
        << "metricsPort: " << spec.metrics_port << "\n"
        << "registryRefreshInterval: 100ms\n"
        << "heartbeatInterval: " << spec.heartbeat << "\n"
        << "exportTtl: " << spec.export_ttl << "\n"
        << "nameResolution:\n"
        << spec.name_resolution_yaml;
    out << spec.extra_yaml;
    if (!spec.subscriber_token.empty()) out << "subscriberToken: " << spec.subscriber_token << "\n";
    if (!spec.peers.empty()) out << "peers:\n";
    for (const PeerSpec& p : spec.peers) {
      out << "  - cluster: " << p.cluster << "\n"
          << "    addresses: ["
          << (p.dead_port_first ? absl::StrCat("\"127.0.0.1:", p.dead_port_first, "\", ") : std::string())
          << "\"127.0.0.1:" << p.grpc_port << "\"]\n"
          << "    token: " << p.token << "\n";
    }
  }
  auto child = ChildProcess::Spawn(BinPath("ringside-sync"), {"--config", path, "--log-level", "debug"}, {},
                                   dir.File(spec.cluster + "-sync.log"));
  if (!child.ok()) return child.status();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = HttpGet(spec.metrics_port, "/healthz");
    if (r.ok() && r->status() == 200) return child;
    if (!(*child)->Alive()) break;
    std::this_thread::sleep_for(20ms);
  }
  return absl::UnavailableError(absl::StrCat("ringside-sync of cluster ", spec.cluster,
                                             " did not become healthy:\n", (*child)->LogTail()));
}

absl::StatusOr<blocking_http::HttpMessage> HttpGet(uint16_t port, const std::string& path) {
  RequestSpec spec;
  spec.target = path;
  spec.content_length = false;
  return Send(port, spec, 2s);
}

Subscriber::Subscriber(uint16_t sync_port, std::string cluster, std::string token)
    : port_(sync_port), cluster_(std::move(cluster)), token_(std::move(token)) {
  thread_ = std::thread([this] { run(); });
}

Subscriber::~Subscriber() { Stop(); }

void Subscriber::Stop() {
  ctx_.TryCancel();
  if (thread_.joinable()) thread_.join();
}

void Subscriber::run() {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials());
  auto stub = v1::Synchronizer::NewStub(channel);
  if (!token_.empty()) ctx_.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  ctx_.set_deadline(std::chrono::system_clock::now() + 60s);  // bounded even if nobody stops us
  v1::SubscribeRequest req;
  req.set_cluster(cluster_);
  req.set_app_id("e2e-subscriber");
  auto reader = stub->Subscribe(&ctx_, req);
  v1::TableUpdate u;
  while (reader->Read(&u)) {
    std::lock_guard<std::mutex> lock(mu_);
    if (u.kind() == v1::TableUpdate::FULL) {
      table_.clear();
      ringside::sync::apply_delta(&table_, u.removals(), u.upserts());
      epoch_ = u.epoch();
    } else {
      if (updates_.empty()) protocol_error_ = "the first update was a DELTA";
      if (u.epoch() != epoch_) protocol_error_ = "a DELTA of another epoch";
      if (u.base_version() != version_)
        protocol_error_ = absl::StrCat("a DELTA on base ", u.base_version(), " while holding ", version_);
      ringside::sync::apply_delta(&table_, u.removals(), u.upserts());
    }
    version_ = u.version();
    updates_.push_back({u, Clock::now()});
    cv_.notify_all();
  }
  grpc::Status status = reader->Finish();
  std::lock_guard<std::mutex> lock(mu_);
  end_ = status;
  cv_.notify_all();
}

std::optional<Subscriber::Clock::time_point> Subscriber::WaitFor(
    const std::function<bool(const ringside::sync::Table&)>& done, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = Clock::now() + timeout;
  while (!done(table_)) {
    if (end_ || cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (!done(table_)) return std::nullopt;
      break;
    }
  }
  return updates_.empty() ? Clock::now() : updates_.back().at;
}

std::optional<grpc::Status> Subscriber::WaitEnd(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return end_.has_value(); });
  return end_;
}

std::vector<Subscriber::Received> Subscriber::updates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return updates_;
}

ringside::sync::Table Subscriber::table() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

std::string Subscriber::protocol_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return protocol_error_;
}

namespace {
bool contains(const ringside::sync::Table& t, const std::string& cluster, const std::string& app,
              const std::string& address) {
  for (const auto& [k, i] : t) {
    if (i.cluster() == cluster && i.app_id() == app && i.address() == address) return true;
  }
  return false;
}
}  // namespace

std::function<bool(const ringside::sync::Table&)> Has(std::string cluster, std::string app, std::string address) {
  return [=](const ringside::sync::Table& t) { return contains(t, cluster, app, address); };
}

std::function<bool(const ringside::sync::Table&)> Lacks(std::string cluster, std::string app, std::string address) {
  return [=](const ringside::sync::Table& t) { return !contains(t, cluster, app, address); };
}

}  // namespace ringside::e2e::sync
