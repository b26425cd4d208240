#include "controlplane/resolvers/external/sync_subscriber.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ringside::resolvers::external {

namespace {

using ringside::sync::v1::SubscribeRequest;
using ringside::sync::v1::Synchronizer;
using ringside::sync::v1::TableUpdate;

std::shared_ptr<grpc::Channel> make_channel(const std::string& target, std::chrono::milliseconds connect_timeout,
                                           std::chrono::milliseconds max_backoff) {
  grpc::ChannelArguments args;
  // Our own back-off paces resubscribes; gRPC's reconnect back-off (up to 120 s by default)
  // must not hold a restarted synchronizer unreachable long after it came back.
  const int max_ms = static_cast<int>(max_backoff.count());
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
  // gRPC uses the minimum back-off as the deadline of one connection attempt.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(connect_timeout.count()));
  // Notice a silently vanished synchronizer host on the long-lived stream. gRPC servers refuse
  // pings more often than every 5 minutes on a stream without data (too_many_pings), so stay
  // at that: a killed process is noticed at once anyway (its kernel resets the connection).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 300000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    default: return "gRPC error";
  }
}

// The stream's end as one status: its gRPC code keeps the kind, the text says what happened.
absl::Status from_grpc(const grpc::Status& s) {
  if (s.ok()) return absl::UnavailableError("the synchronizer ended the stream");
  std::string text = absl::StrCat(code_name(s.error_code()), ": ",
                                  s.error_message().empty() ? "stream failed" : s.error_message());
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), text);
}

}  // namespace

SyncSubscriber::SyncSubscriber(SubscriberOptions options, Deliver deliver, Log log)
    : options_(std::move(options)), deliver_(std::move(deliver)), log_(std::move(log)), table_(options_.carry_over) {
  for (const std::string& target : options_.synchronizers) {
    channels_.push_back(make_channel(target, options_.connect_timeout, options_.max_backoff));
  }
}

SyncSubscriber::~SyncSubscriber() { stop(); }

absl::Status SyncSubscriber::start() {
  if (channels_.empty()) {
    return absl::InvalidArgumentError("spec.ringside.multiCluster.synchronizers: no synchronizer to subscribe to");
  }
  if (thread_.joinable()) return absl::OkStatus();
  thread_ = std::thread([this] { run(); });
  expiry_thread_ = std::thread([this] { expire_carried(); });
  return absl::OkStatus();
}

void SyncSubscriber::stop() {
  active_.stop_and_cancel();
  if (thread_.joinable()) thread_.join();
  if (expiry_thread_.joinable()) expiry_thread_.join();
  connected_.store(false, std::memory_order_relaxed);
}

void SyncSubscriber::log(const std::string& line) const {
  if (log_) {
    log_(line);
  } else {
    std::fprintf(stderr, "ringside: %s\n", line.c_str());
  }
}

void SyncSubscriber::deliver_locked(const std::string& source) {
  size_t skipped = 0;
  std::vector<snapshot::Instance> list = table_.instances(&skipped);
  if (skipped > 0) {
    log(absl::StrCat("external resolver: ", source, ": ", skipped, " instances without a host:port address ignored"));
  }
  instances_.store(list.size(), std::memory_order_relaxed);
  deliver_(std::move(list));
}

void SyncSubscriber::expire_carried() {
  using std::chrono::milliseconds;
  while (true) {
    milliseconds wait{1000};  // nothing carried: look again later
    {
      std::lock_guard<std::mutex> lock(table_mu_);
      if (std::optional<ExternalTable::Clock::time_point> until = table_.carried_until()) {
        wait = std::max(milliseconds(1), std::chrono::ceil<milliseconds>(*until - ExternalTable::Clock::now()));
      }
    }
    if (!stop_signal_.sleep_for(wait)) return;
    std::lock_guard<std::mutex> lock(table_mu_);
    const size_t carried = table_.carried();
    if (table_.expire_carried(ExternalTable::Clock::now())) {
      log(absl::StrCat("external resolver: dropped ", carried, " instances of clusters the synchronizer has not listed since it restarted (",
                       options_.carry_over.count(), " ms)"));
      deliver_locked("carry-over expiry");
    }
  }
}

absl::Status SyncSubscriber::subscribe_once(size_t index, bool* out_of_step) {
  *out_of_step = false;
  const std::string& target = options_.synchronizers[index];
  std::shared_ptr<grpc::Channel> channel = channels_[index];
  std::unique_ptr<Synchronizer::Stub> stub = Synchronizer::NewStub(channel);
  grpc::ClientContext ctx;
  if (!options_.token.empty()) ctx.AddMetadata("authorization", "Bearer " + options_.token);
  SubscribeRequest request;
  request.set_cluster(options_.cluster);
  request.set_app_id(options_.app_id);
  {
    std::lock_guard<std::mutex> lock(table_mu_);
    request.set_epoch(table_.epoch());
    request.set_known_version(table_.version());
  }
  if (!active_.begin(&ctx)) return absl::CancelledError("stopping");
  std::unique_ptr<grpc::ClientReader<TableUpdate>> reader = stub->Subscribe(&ctx, request);

  absl::Status ended;  // set when we end the stream ourselves
  TableUpdate update;
  while (reader->Read(&update)) {
    updates_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(table_mu_);
    bool changed = false;
    if (absl::Status s = table_.apply(update, &changed); !s.ok()) {
      ended = absl::FailedPreconditionError(absl::StrCat("resubscribing: ", s.message()));
      *out_of_step = true;
      ctx.TryCancel();
      break;
    }
    if (!connected_.exchange(true, std::memory_order_relaxed)) {
      subscriptions_.fetch_add(1, std::memory_order_relaxed);
      std::string carried;
      if (table_.carried() > 0) {
        carried = absl::StrCat(" (+", table_.carried(), " carried over from before its restart for up to ",
                               options_.carry_over.count(), " ms)");
      }
      log(absl::StrCat("external resolver: connected to synchronizer ", target, " (cluster ", options_.cluster,
                       "): ", table_.size() - table_.carried(), " instances of ", update.clusters(), " other clusters",
                       carried));
    }
    if (changed) deliver_locked(absl::StrCat("synchronizer ", target));
  }
  // Drain to Finish: after a cancel Read returns false at once.
  grpc::Status status = reader->Finish();
  active_.end();
  {
    std::lock_guard<std::mutex> lock(table_mu_);
    table_.stream_ended();
  }
  if (!ended.ok()) return ended;
  absl::Status s = from_grpc(status);
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    // gRPC's channel may sit out its own reconnect back-off and then idle: start afresh.
    channels_[index] = make_channel(target, options_.connect_timeout, options_.max_backoff);
  }
  return s;
}

void SyncSubscriber::run() {
  Backoff backoff(options_.max_backoff);
  size_t index = 0;
  absl::StatusCode last_failure = absl::StatusCode::kOk;  // the kind last logged while not connected
  while (!stop_signal_.stopped()) {
    bool out_of_step = false;
    absl::Status ended = subscribe_once(index, &out_of_step);
    if (stop_signal_.stopped()) break;
    const std::string& target = options_.synchronizers[index];
    const bool was_connected = connected_.exchange(false, std::memory_order_relaxed);
    if (was_connected) {
      backoff.reset();
      last_failure = absl::StatusCode::kOk;
      size_t held = 0;
      {
        std::lock_guard<std::mutex> lock(table_mu_);
        held = table_.size();
      }
      log(absl::StrCat("external resolver: lost synchronizer ", target, ": ", ended.message(), "; keeping ", held,
                       " external instances and resubscribing"));
    } else if (ended.code() != last_failure) {
      // One line per kind of failure (unreachable, refused token, ...), not per attempt.
      last_failure = ended.code();
      log(absl::StrCat("external resolver: cannot subscribe to synchronizer ", target, ": ", ended.message(),
                       "; retrying (", options_.synchronizers.size(), " synchronizer",
                       options_.synchronizers.size() == 1 ? "" : "s", " in turn, back-off up to ",
                       options_.max_backoff.count(), " ms)"));
    }
    // Out of step with a healthy synchronizer: ask it again; otherwise try the next one.
    if (!out_of_step) {
      index = (index + 1) % options_.synchronizers.size();
    }
    if (!stop_signal_.sleep_for(backoff.next())) break;
  }
}

}  // namespace ringside::resolvers::external
