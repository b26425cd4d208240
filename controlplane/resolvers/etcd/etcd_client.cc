#include "controlplane/resolvers/etcd/etcd_client.h"

#include "absl/strings/str_cat.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/resolvers/etcd/instance_record.h"

namespace ringside::resolvers::etcd {

namespace {

std::shared_ptr<grpc::Channel> make_channel(const std::string& target, std::chrono::milliseconds max_backoff) {
  grpc::ChannelArguments args;
  // Reconnect promptly after an outage (gRPC's default back-off reaches 120 s).
  int max_ms = static_cast<int>(max_backoff.count());
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(100, max_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
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
    : call_timeout_(call_timeout) {
  endpoints_.reserve(endpoints.size());
  for (const std::string& e : endpoints) {
    Endpoint ep;
    ep.target = e;
    ep.channel = make_channel(e, max_backoff);
    ep.kv = etcdserverpb::KV::NewStub(ep.channel);
    ep.watch = etcdserverpb::Watch::NewStub(ep.channel);
    ep.lease = etcdserverpb::Lease::NewStub(ep.channel);
    endpoints_.push_back(std::move(ep));
  }
}

void EtcdClient::failed(size_t endpoint) {
  size_t expected = endpoint;
  // Only the first caller to notice moves on; others saw the same failure.
  current_.compare_exchange_strong(expected, (endpoint + 1) % endpoints_.size());
}

absl::Status EtcdClient::to_status(size_t endpoint, std::string_view what, const grpc::Status& s) const {
  std::string text = absl::StrCat("etcd ", endpoints_[endpoint].target, ": ", config::to_absl(what), ": ",
                                  s.error_message().empty() ? "failed" : s.error_message(), " (gRPC code ",
                                  static_cast<int>(s.error_code()), ")");
  if (is_transport_failure(s.error_code())) return absl::UnavailableError(text);
  return absl::UnknownError(text);
}

template <typename Resp, typename Call>
absl::StatusOr<Resp> EtcdClient::unary(std::string_view what, Call call) {
  size_t i = current();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + call_timeout_);
  ctx.set_wait_for_ready(true);
  Resp resp;
  grpc::Status s = call(endpoints_[i], &ctx, &resp);
  if (s.ok()) return resp;
  if (is_transport_failure(s.error_code())) failed(i);
  return to_status(i, what, s);
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::range_prefix(const std::string& prefix) {
  etcdserverpb::RangeRequest req;
  req.set_key(prefix);
  req.set_range_end(prefix_range_end(prefix));
  return unary<etcdserverpb::RangeResponse>("range " + prefix, [&](Endpoint& e, grpc::ClientContext* c, auto* r) {
    return e.kv->Range(c, req, r);
  });
}

absl::StatusOr<etcdserverpb::PutResponse> EtcdClient::put(const std::string& key, const std::string& value,
                                                          int64_t lease) {
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  return unary<etcdserverpb::PutResponse>("put " + key, [&](Endpoint& e, grpc::ClientContext* c, auto* r) {
    return e.kv->Put(c, req, r);
  });
}

absl::StatusOr<etcdserverpb::DeleteRangeResponse> EtcdClient::delete_key(const std::string& key) {
  etcdserverpb::DeleteRangeRequest req;
  req.set_key(key);
  return unary<etcdserverpb::DeleteRangeResponse>("delete " + key, [&](Endpoint& e, grpc::ClientContext* c, auto* r) {
    return e.kv->DeleteRange(c, req, r);
  });
}

absl::StatusOr<etcdserverpb::LeaseGrantResponse> EtcdClient::grant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl_seconds);
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> r = unary<etcdserverpb::LeaseGrantResponse>(
      "lease grant", [&](Endpoint& e, grpc::ClientContext* c, auto* out) { return e.lease->LeaseGrant(c, req, out); });
  if (r.ok() && !r->error().empty()) return absl::UnknownError(absl::StrCat("etcd lease grant: ", r->error()));
  return r;
}

absl::Status EtcdClient::revoke(int64_t lease_id) {
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(lease_id);
  return unary<etcdserverpb::LeaseRevokeResponse>("lease revoke", [&](Endpoint& e, grpc::ClientContext* c, auto* r) {
           return e.lease->LeaseRevoke(c, req, r);
         }).status();
}

absl::StatusOr<int64_t> EtcdClient::time_to_live(int64_t lease_id) {
  etcdserverpb::LeaseTimeToLiveRequest req;
  req.set_id(lease_id);
  absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> r = unary<etcdserverpb::LeaseTimeToLiveResponse>(
      "lease time-to-live", [&](Endpoint& e, grpc::ClientContext* c, auto* out) { return e.lease->LeaseTimeToLive(c, req, out); });
  if (!r.ok()) return r.status();
  return r->ttl();
}

}  // namespace ringside::resolvers::etcd
