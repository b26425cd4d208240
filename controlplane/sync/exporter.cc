#include "controlplane/sync/exporter.h"

#include <grpcpp/grpcpp.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "controlplane/sync/sync_log.h"
#include "ringside/sync/v1/sync.grpc.pb.h"

namespace ringside::sync {
namespace {

// How often a waiting stream checks whether its reader saw the stream end.
constexpr std::chrono::milliseconds kPoll{50};

}  // namespace

Exporter::Exporter(PeerConfig peer, SyncState* state, std::string sync_id, ExportTiming timing)
    : peer_(std::move(peer)), state_(state), sync_id_(std::move(sync_id)), timing_(timing) {}

Exporter::~Exporter() { stop(); }

void Exporter::start() { thread_ = std::thread([this] { run(); }); }

void Exporter::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (active_) active_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Exporter::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait_for(lock, d, [&] { return stopping_; });
}

void Exporter::run() {
  // Nothing to export before the registry was read once: an empty table would make the peer
  // drop our instances until the first real one arrives.
  while (!state_->stopping() && state_->local().version == 0)
    state_->wait_local_change(0, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
  std::mt19937_64 rng(std::random_device{}());
  std::chrono::milliseconds backoff = timing_.initial_backoff;
  for (;;) {
    bool any_acked = false;
    for (const std::string& address : peer_.addresses) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
      if (run_stream(address)) {
        any_acked = true;
        break;  // start the round again at the first (preferred) address
      }
    }
    if (any_acked) {
      backoff = timing_.initial_backoff;
      continue;
    }
    // Jitter in [backoff/2, backoff] so peers restarted together do not reconnect in step.
    std::uniform_int_distribution<int64_t> jitter(backoff.count() / 2, backoff.count());
    sleep_for(std::chrono::milliseconds(jitter(rng)));
    backoff = std::min(timing_.max_backoff, backoff * 2);
  }
}

bool Exporter::run_stream(const std::string& address) {
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  std::unique_ptr<v1::Synchronizer::Stub> stub = v1::Synchronizer::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", peer_.token));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    active_ = &ctx;
  }
  std::unique_ptr<grpc::ClientReaderWriter<v1::ExportRequest, v1::ExportAck>> stream = stub->Export(&ctx);

  std::atomic<bool> ended{false};            // the reader saw the stream end
  std::atomic<uint64_t> acks{0};             // acknowledgements received
  std::atomic<int64_t> last_ack_ns{std::chrono::steady_clock::now().time_since_epoch().count()};
  std::thread reader([&] {
    v1::ExportAck ack;
    while (stream->Read(&ack)) {
      if (acks.fetch_add(1) == 0) {
        state_->export_connected(peer_.cluster, true);
        log(LogLevel::kInfo, absl::StrCat("exporting to cluster \"", peer_.cluster, "\" at ", address));
      }
      last_ack_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    }
    ended = true;
  });

  auto send = [&](const SyncState::LocalTable* table, uint64_t version) {
    v1::ExportRequest req;
    req.set_cluster(state_->own_cluster());
    req.set_sync_id(sync_id_);
    req.set_version(version);
    if (table) {
      for (const v1::Instance& i : table->instances) *req.add_instances() = i;
    } else {
      req.set_heartbeat_only(true);
    }
    if (!stream->Write(req)) return false;
    state_->export_sent(peer_.cluster);
    return true;
  };

  SyncState::LocalTable table = state_->local();
  uint64_t sent_version = table.version;
  bool ok = send(&table, sent_version);
  auto next_heartbeat = std::chrono::steady_clock::now() + timing_.heartbeat;
  const auto ack_timeout = 3 * timing_.heartbeat;
  while (ok && !ended && !state_->stopping()) {
    state_->wait_local_change(sent_version, std::min(next_heartbeat, std::chrono::steady_clock::now() + kPoll));
    const auto now = std::chrono::steady_clock::now();
    if (now - std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(last_ack_ns.load())) >
        ack_timeout) {
      log(LogLevel::kWarn, absl::StrCat("export to cluster \"", peer_.cluster, "\" at ", address,
                                        ": no acknowledgement for 3 heartbeats; reconnecting"));
      break;
    }
    SyncState::LocalTable latest = state_->local();
    if (latest.version != sent_version) {
      sent_version = latest.version;
      ok = send(&latest, sent_version);
      next_heartbeat = now + timing_.heartbeat;
    } else if (now >= next_heartbeat) {
      ok = send(nullptr, sent_version);
      next_heartbeat = now + timing_.heartbeat;
    }
  }
  ctx.TryCancel();
  reader.join();
  grpc::Status status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = nullptr;
  }
  if (acks > 0) state_->export_connected(peer_.cluster, false);
  if (!state_->stopping()) {
    const LogLevel level = status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
                                   status.error_code() == grpc::StatusCode::PERMISSION_DENIED
                               ? LogLevel::kError
                               : (acks > 0 ? LogLevel::kInfo : LogLevel::kDebug);
    log(level, absl::StrCat("export to cluster \"", peer_.cluster, "\" at ", address, " ended: ",
                            status.ok() ? "ok" : status.error_message()));
  }
  return acks > 0;
}

}  // namespace ringside::sync
