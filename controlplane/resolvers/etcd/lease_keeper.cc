#include "controlplane/resolvers/etcd/lease_keeper.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace ringside::resolvers::etcd {

LeaseKeeper::LeaseKeeper(EtcdClient* client, std::string key, std::string value, std::chrono::seconds ttl,
                         std::chrono::milliseconds interval, std::chrono::milliseconds max_backoff)
    : client_(client),
      key_(std::move(key)),
      value_(std::move(value)),
      ttl_(ttl),
      interval_(interval),
      max_backoff_(max_backoff) {}

void LeaseKeeper::log(const std::string& text) { std::fprintf(stderr, "ringside: etcd resolver: %s\n", text.c_str()); }

void LeaseKeeper::log_failure(const std::string& text) {
  // One line per outage: successive failures differ in wording (refused, handshake timed out).
  if (failing_) return;
  failing_ = true;
  log(text);
}

void LeaseKeeper::log_recovery(const std::string& text) {
  if (!failing_) return;
  failing_ = false;
  log(text);
}

absl::Status LeaseKeeper::set_serving(bool serving) {
  withdrawn_.store(!serving);
  if (!serving) {
    rewrite_.store(false);
    absl::StatusOr<etcdserverpb::DeleteRangeResponse> del = client_->delete_key(key_);
    return del.ok() ? absl::OkStatus() : del.status();
  }
  const int64_t lease = lease_id_.load();
  if (lease == 0) return absl::OkStatus();  // the keep-alive thread registers (key included) anew
  absl::StatusOr<etcdserverpb::PutResponse> put = client_->put(key_, value_, lease);
  if (!put.ok()) {
    rewrite_.store(true);  // the keep-alive loop tries again
    return put.status();
  }
  return absl::OkStatus();
}

absl::Status LeaseKeeper::register_now() {
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> lease = client_->grant(ttl_.count());
  if (!lease.ok()) return lease.status();
  if (withdrawn_.load()) {  // issue 10: a lease for later, no key while our app is unhealthy
    lease_id_.store(lease->id());
    registrations_.fetch_add(1);
    rewrite_.store(false);
    return absl::OkStatus();
  }
  absl::StatusOr<etcdserverpb::PutResponse> put = client_->put(key_, value_, lease->id());
  if (!put.ok()) {
    // Do not leave a lease nobody keeps alive (it would expire anyway).
    (void)client_->revoke(lease->id());
    return put.status();
  }
  lease_id_.store(lease->id());
  registrations_.fetch_add(1);
  rewrite_.store(false);  // the key was just written (its deletion with the old lease is moot)
  return absl::OkStatus();
}

void LeaseKeeper::start() { thread_ = std::thread([this] { run(); }); }

void LeaseKeeper::run() {
  Backoff backoff(max_backoff_);
  while (!stop_.stopped()) {
    if (lease_id_.load() == 0) {
      absl::Status s = register_now();
      if (!s.ok()) {
        log_failure(absl::StrCat("cannot register ", key_, " (retrying): ", s.message()));
        stop_.sleep_for(backoff.next());
        continue;
      }
      failing_ = false;
      log(absl::StrCat("registered ", key_, " under lease ", lease_id_.load()));
    }
    absl::Status s = keep_alive(backoff);
    if (stop_.stopped()) break;
    if (absl::IsNotFound(s)) {
      log(absl::StrCat("lease of ", key_, " was lost; registering again"));
      lease_id_.store(0);
      continue;  // at once: we are not in etcd's table any more
    }
    log_failure(absl::StrCat("keep-alive of ", key_, " failed (retrying): ", s.message()));
    stop_.sleep_for(backoff.next());
  }
}

absl::Status LeaseKeeper::keep_alive(Backoff& backoff) {
  size_t endpoint = client_->current();
  std::shared_ptr<EtcdClient::Connection> conn = client_->connection(endpoint);
  grpc::ClientContext ctx;
  if (!active_.begin(&ctx)) return absl::OkStatus();
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>>
      stream = conn->lease->LeaseKeepAlive(&ctx);
  absl::Status result = absl::OkStatus();
  etcdserverpb::LeaseKeepAliveRequest req;
  etcdserverpb::LeaseKeepAliveResponse resp;
  bool lost = false;
  while (true) {
    req.set_id(lease_id_.load());
    if (!stream->Write(req) || !stream->Read(&resp)) break;
    if (resp.ttl() <= 0) {
      lost = true;
      break;
    }
    if (rewrite_.exchange(false) && !withdrawn_.load()) {
      absl::StatusOr<etcdserverpb::PutResponse> put = client_->put(key_, value_, lease_id_.load());
      if (put.ok()) {
        log(absl::StrCat(key_, " was deleted while its lease lived; written again"));
      } else {
        rewrite_.store(true);  // next time (a lost lease is caught by the keep-alive answer)
      }
    }
    backoff.reset();
    log_recovery(absl::StrCat("keep-alive of ", key_, " resumed on lease ", lease_id_.load()));
    if (!stop_.sleep_for(interval_)) break;
  }
  ctx.TryCancel();
  grpc::Status status = stream->Finish();
  active_.end();
  if (lost) return absl::NotFoundError("lease expired");
  if (stop_.stopped()) return absl::OkStatus();
  // The stream broke: start over on a fresh channel, on the next endpoint.
  return client_->stream_broke(endpoint, conn.get(), "lease keep-alive", status);
}

void LeaseKeeper::stop(bool revoke) {
  if (stopped_) return;
  stopped_ = true;
  active_.stop_and_cancel();
  if (thread_.joinable()) thread_.join();
  int64_t id = lease_id_.exchange(0);
  if (revoke && id != 0) {
    absl::Status s = client_->revoke(id);
    if (!s.ok()) log(absl::StrCat("cannot revoke the lease of ", key_, " (it expires in ", ttl_.count(), " s): ", s.message()));
  }
}

}  // namespace ringside::resolvers::etcd
