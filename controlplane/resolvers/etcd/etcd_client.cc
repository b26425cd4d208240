#include "controlplane/resolvers/etcd/etcd_client.h"

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/resolvers/etcd/instance_record.h"

namespace ringside::resolvers::etcd {

namespace {

std::shared_ptr<grpc::Channel> make_channel(const std::string& target, std::chrono::milliseconds connect_timeout,
                                           std::chrono::milliseconds max_backoff) {
  grpc::ChannelArguments args;
  // Reconnect promptly after an outage (gRPC's default back-off reaches 120 s).
  int max_ms = static_cast<int>(max_backoff.count());
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
  // gRPC also uses the *minimum* back-off as the deadline of one connection attempt (TCP and
  // HTTP/2 handshake): keep it at the dial timeout, or a freshly restarted, busy etcd never
  // completes a handshake in time.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(connect_timeout.count()));
  // Notice a silently dead member (no RST) on long-lived streams. etcd refuses pings more often
  // than every 5 s (--grpc-keepalive-min-time), so stay above that.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

bool is_transport_failure(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

EtcdClient::EtcdClient(const std::vector<std::string>& endpoints, std::chrono::milliseconds call_timeout,
                       std::chrono::milliseconds max_backoff)
    : targets_(endpoints), call_timeout_(call_timeout), max_backoff_(max_backoff) {
  for (size_t i = 0; i < targets_.size(); ++i) connections_.push_back(connect(i));
}

std::shared_ptr<EtcdClient::Connection> EtcdClient::connect(size_t endpoint) const {
  auto c = std::make_shared<Connection>();
  c->channel = make_channel(targets_[endpoint], call_timeout_, max_backoff_);
  c->kv = etcdserverpb::KV::NewStub(c->channel);
  c->watch = etcdserverpb::Watch::NewStub(c->channel);
  c->lease = etcdserverpb::Lease::NewStub(c->channel);
  return c;
}

std::shared_ptr<EtcdClient::Connection> EtcdClient::connection(size_t endpoint) const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_[endpoint];
}

void EtcdClient::failed(size_t endpoint, const Connection* conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Only the first caller to notice replaces the channel; others saw the same failure.
    if (connections_[endpoint].get() != conn) return;
    connections_[endpoint] = connect(endpoint);
  }
  size_t expected = endpoint;
  current_.compare_exchange_strong(expected, (endpoint + 1) % targets_.size());
}

absl::Status EtcdClient::stream_broke(size_t endpoint, const Connection* conn, std::string_view what,
                                      const grpc::Status& status) {
  failed(endpoint, conn);
  if (status.ok() || status.error_code() == grpc::StatusCode::CANCELLED) {
    return absl::UnavailableError(
        absl::StrCat("etcd ", targets_[endpoint], ": ", config::to_absl(what), " stream ended"));
  }
  return to_status(endpoint, what, status);
}

absl::Status EtcdClient::to_status(size_t endpoint, std::string_view what, const grpc::Status& s) const {
  std::string text = absl::StrCat("etcd ", targets_[endpoint], ": ", config::to_absl(what), ": ",
                                  s.error_message().empty() ? "failed" : s.error_message(), " (gRPC code ",
                                  static_cast<int>(s.error_code()), ")");
  if (is_transport_failure(s.error_code())) return absl::UnavailableError(text);
  return absl::UnknownError(text);
}

template <typename Resp, typename Call>
absl::StatusOr<Resp> EtcdClient::unary(std::string_view what, Call call) {
  // Each endpoint at most once: a member that is down costs one call timeout, then the next is
  // tried. Every call we make is safe to repeat (a Grant whose answer was lost leaves a lease
  // without keys that expires on its own).
  absl::Status last;
  for (size_t attempt = 0; attempt < targets_.size(); ++attempt) {
    size_t i = current();
    std::shared_ptr<Connection> conn = connection(i);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + call_timeout_);
    ctx.set_wait_for_ready(true);
    Resp resp;
    grpc::Status s = call(*conn, &ctx, &resp);
    if (s.ok()) return resp;
    last = to_status(i, what, s);
    if (!is_transport_failure(s.error_code())) break;
    failed(i, conn.get());
  }
  return last;
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::range_prefix(const std::string& prefix) {
  etcdserverpb::RangeRequest req;
  req.set_key(prefix);
  req.set_range_end(prefix_range_end(prefix));
  return unary<etcdserverpb::RangeResponse>("range " + prefix, [&](Connection& e, grpc::ClientContext* c, auto* r) {
    return e.kv->Range(c, req, r);
  });
}

absl::StatusOr<etcdserverpb::PutResponse> EtcdClient::put(const std::string& key, const std::string& value,
                                                          int64_t lease) {
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  return unary<etcdserverpb::PutResponse>("put " + key, [&](Connection& e, grpc::ClientContext* c, auto* r) {
    return e.kv->Put(c, req, r);
  });
}

absl::StatusOr<etcdserverpb::DeleteRangeResponse> EtcdClient::delete_key(const std::string& key) {
  etcdserverpb::DeleteRangeRequest req;
  req.set_key(key);
  return unary<etcdserverpb::DeleteRangeResponse>("delete " + key, [&](Connection& e, grpc::ClientContext* c, auto* r) {
    return e.kv->DeleteRange(c, req, r);
  });
}

absl::StatusOr<etcdserverpb::LeaseGrantResponse> EtcdClient::grant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl_seconds);
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> r = unary<etcdserverpb::LeaseGrantResponse>(
      "lease grant", [&](Connection& e, grpc::ClientContext* c, auto* out) { return e.lease->LeaseGrant(c, req, out); });
  if (r.ok() && !r->error().empty()) return absl::UnknownError(absl::StrCat("etcd lease grant: ", r->error()));
  return r;
}

absl::Status EtcdClient::revoke(int64_t lease_id) {
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(lease_id);
  return unary<etcdserverpb::LeaseRevokeResponse>("lease revoke", [&](Connection& e, grpc::ClientContext* c, auto* r) {
           return e.lease->LeaseRevoke(c, req, r);
         }).status();
}

absl::StatusOr<int64_t> EtcdClient::time_to_live(int64_t lease_id) {
  etcdserverpb::LeaseTimeToLiveRequest req;
  req.set_id(lease_id);
  absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> r = unary<etcdserverpb::LeaseTimeToLiveResponse>(
      "lease time-to-live", [&](Connection& e, grpc::ClientContext* c, auto* out) { return e.lease->LeaseTimeToLive(c, req, out); });
  if (!r.ok()) return r.status();
  return r->ttl();
}

}  // namespace ringside::resolvers::etcd
