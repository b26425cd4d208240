#include "controlplane/resolvers/etcd/instance_watcher.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "controlplane/resolvers/etcd/instance_record.h"

namespace ringside::resolvers::etcd {

InstanceWatcher::InstanceWatcher(EtcdClient* client, std::string prefix, InstanceSink* sink,
                                 std::chrono::milliseconds max_backoff,
                                 std::function<void(const std::string&)> on_delete)
    : client_(client),
      key_prefix_(key_prefix(prefix)),
      sink_(sink),
      max_backoff_(max_backoff),
      on_delete_(std::move(on_delete)) {}

int64_t InstanceWatcher::revision() const {
  std::lock_guard<std::mutex> lock(mu_);
  return revision_;
}

int InstanceWatcher::lists() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lists_;
}

void InstanceWatcher::report(const absl::Status& s) {
  std::lock_guard<std::mutex> lock(mu_);
  // One report per outage: the texts of successive failures differ (refused, handshake timed
  // out...) and each distinct text would be logged again.
  if (s.ok() != reported_error_) return;
  if (s.ok()) {
    std::fprintf(stderr, "ringside: etcd resolver: watch of %s resumed after revision %lld\n", key_prefix_.c_str(),
                 static_cast<long long>(revision_));
  }
  reported_error_ = !s.ok();
  sink_->report_status(s);
}

std::optional<snapshot::Instance> InstanceWatcher::instance_of(const std::string& key, const std::string& value) {
  absl::StatusOr<InstanceRecord> record = decode_record(value);
  absl::StatusOr<snapshot::Instance> inst =
      record.ok() ? snapshot::make_instance(record->app_id, record->app_namespace, record->address, record->cluster,
                                            record->weight)
                  : absl::StatusOr<snapshot::Instance>(record.status());
  if (inst.ok()) return *std::move(inst);
  std::string line = absl::StrCat("ignoring ", key, ": ", inst.status().message());
  if (line != last_bad_value_) {
    last_bad_value_ = line;
    std::fprintf(stderr, "ringside: etcd resolver: %s\n", line.c_str());
  }
  return std::nullopt;
}

absl::Status InstanceWatcher::list() {
  absl::StatusOr<etcdserverpb::RangeResponse> r = client_->range_prefix(key_prefix_);
  if (!r.ok()) return r.status();
  std::map<std::string, snapshot::Instance> view;
  for (const mvccpb::KeyValue& kv : r->kvs()) {
    if (std::optional<snapshot::Instance> inst = instance_of(kv.key(), kv.value())) view.emplace(kv.key(), *std::move(inst));
  }
  std::vector<std::pair<std::string, std::string>> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    by_key_ = std::move(view);
    revision_ = r->header().revision();
    listed_ = true;
    need_list_ = false;
    ++lists_;
    std::fprintf(stderr, "ringside: etcd resolver: listed %zu instance(s) under %s at revision %lld\n", by_key_.size(),
                 key_prefix_.c_str(), static_cast<long long>(revision_));
    publish_locked();
    pending.swap(pending_lookups_);
  }
  for (auto& [app, ns] : pending) lookup(app, ns);
  return absl::OkStatus();
}

void InstanceWatcher::publish_locked() {
  std::vector<snapshot::Instance> all;
  all.reserve(by_key_.size());
  absl::flat_hash_set<uint64_t> seen;  // two keys may name the same instance
  for (const auto& [key, inst] : by_key_) {
    if (seen.insert(inst.id).second) all.push_back(inst);
  }
  sink_->publish_all(std::move(all));
}

void InstanceWatcher::lookup(std::string_view app_id, std::string_view ns) {
  // The sink is called under mu_ (it only queues), so an answer built from an older view can
  // never reach the control plane after a newer publish_all.
  std::lock_guard<std::mutex> lock(mu_);
  if (!listed_) {
    pending_lookups_.emplace_back(std::string(app_id), std::string(ns));
    return;
  }
  std::vector<snapshot::Instance> found;
  for (const auto& [key, inst] : by_key_) {
    if (inst.app_id == app_id && (ns.empty() || inst.app_namespace == ns)) found.push_back(inst);
  }
  sink_->publish_app(std::string(app_id), std::string(ns), std::move(found));
}

bool InstanceWatcher::apply(const mvccpb::Event& event) {
  const mvccpb::KeyValue& kv = event.kv();
  revision_ = std::max(revision_, kv.mod_revision());
  // One line per membership change: operators (and the e2e failover measurement) see when an
  // instance joined or left this sidecar's view.
  auto note = [&](const char* what) {
    std::fprintf(stderr, "ringside: etcd resolver: %s %s (revision %lld)\n", kv.key().c_str(), what,
                 static_cast<long long>(kv.mod_revision()));
  };
  std::optional<snapshot::Instance> inst;
  if (event.type() == mvccpb::Event::PUT) inst = instance_of(kv.key(), kv.value());
  if (event.type() == mvccpb::Event::DELETE && on_delete_) on_delete_(kv.key());
  if (!inst) {
    if (by_key_.erase(kv.key()) == 0) return false;
    note("left");
    return true;
  }
  auto [it, inserted] = by_key_.try_emplace(kv.key(), *inst);
  if (inserted) {
    note("joined");
    return true;
  }
  if (it->second == *inst) return false;
  it->second = *std::move(inst);
  note("changed");
  return true;
}

void InstanceWatcher::start() { thread_ = std::thread([this] { run(); }); }

void InstanceWatcher::run() {
  Backoff backoff(max_backoff_);
  while (!stop_.stopped()) {
    bool must_list;
    {
      std::lock_guard<std::mutex> lock(mu_);
      must_list = need_list_;
    }
    if (must_list) {
      absl::Status s = list();
      if (!s.ok()) {
        report(s);
        stop_.sleep_for(backoff.next());
        continue;
      }
      report(absl::OkStatus());
    }
    absl::Status s = watch(backoff);
    if (stop_.stopped()) break;
    if (!s.ok()) {
      report(s);
      stop_.sleep_for(backoff.next());
    }
  }
}

absl::Status InstanceWatcher::watch(Backoff& backoff) {
  size_t endpoint = client_->current();
  std::shared_ptr<EtcdClient::Connection> conn = client_->connection(endpoint);
  grpc::ClientContext ctx;
  if (!active_.begin(&ctx)) return absl::OkStatus();
  auto stream = conn->watch->Watch(&ctx);
  etcdserverpb::WatchRequest req;
  etcdserverpb::WatchCreateRequest* create = req.mutable_create_request();
  create->set_key(key_prefix_);
  create->set_range_end(prefix_range_end(key_prefix_));
  create->set_start_revision(revision() + 1);
  // Periodic empty responses carry the store's revision, so a quiet prefix still advances the
  // revision we resume from (and is less likely to fall behind a compaction).
  create->set_progress_notify(true);
  absl::Status result = absl::OkStatus();
  bool ended_by_server = false;  // canceled or compacted: the stream itself is fine
  bool unpublished = false;  // changes applied but not yet published (fragmented revision)
  if (stream->Write(req)) {
    etcdserverpb::WatchResponse resp;
    while (stream->Read(&resp)) {
      if (resp.compact_revision() > 0) {
        std::fprintf(stderr, "ringside: etcd resolver: revision %lld was compacted (now %lld); listing again\n",
                     static_cast<long long>(revision() + 1), static_cast<long long>(resp.compact_revision()));
        std::lock_guard<std::mutex> lock(mu_);
        need_list_ = true;
        ended_by_server = true;
        break;
      }
      if (resp.canceled()) {
        result = absl::UnavailableError(absl::StrCat("etcd ", client_->endpoint_name(endpoint),
                                                     ": watch canceled: ", resp.cancel_reason()));
        ended_by_server = true;
        break;
      }
      if (resp.created()) {
        backoff.reset();
        report(absl::OkStatus());
      }
      if (resp.events_size() == 0) {
        // A progress notification: every later event has a higher revision than its header's.
        if (!resp.created() && !unpublished) {
          std::lock_guard<std::mutex> lock(mu_);
          revision_ = std::max(revision_, resp.header().revision());
        }
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      for (const mvccpb::Event& e : resp.events()) unpublished = apply(e) || unpublished;
      // A fragmented revision is published once its last fragment arrived.
      if (unpublished && !resp.fragment()) {
        publish_locked();
        unpublished = false;
      }
    }
  }
  ctx.TryCancel();
  grpc::Status status = stream->Finish();
  active_.end();
  if (stop_.stopped() || ended_by_server) return result;
  // The stream broke: start over on a fresh channel, on the next endpoint.
  return client_->stream_broke(endpoint, conn.get(), "watch", status);
}

void InstanceWatcher::stop() {
  if (stopped_) return;
  stopped_ = true;
  active_.stop_and_cancel();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ringside::resolvers::etcd
