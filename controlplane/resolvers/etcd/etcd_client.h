// A small etcd v3 client over gRPC C++: one channel per configured endpoint, unary calls with a
// deadline, and the stubs the streaming parts (watch, lease keep-alive) use. Calls go to the
// "current" endpoint; a transport failure (UNAVAILABLE, DEADLINE_EXCEEDED) moves on to the next
// endpoint for the following call, so a multi-member cluster survives one member going away.
// Thread-safe: the watcher and the lease keeper share one client.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace ringside::resolvers::etcd {

class EtcdClient {
 public:
  // `max_backoff` caps gRPC's own reconnect back-off (its default grows to 2 minutes, which
  // would leave us blind long after etcd came back).
  EtcdClient(const std::vector<std::string>& endpoints, std::chrono::milliseconds call_timeout,
             std::chrono::milliseconds max_backoff);

  // Every key starting with `key_prefix`, newest revision (linearizable read).
  absl::StatusOr<etcdserverpb::RangeResponse> range_prefix(const std::string& key_prefix);
  absl::StatusOr<etcdserverpb::PutResponse> put(const std::string& key, const std::string& value, int64_t lease);
  absl::StatusOr<etcdserverpb::DeleteRangeResponse> delete_key(const std::string& key);
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> grant(int64_t ttl_seconds);
  absl::Status revoke(int64_t lease_id);
  // Remaining TTL in seconds; -1 when the lease does not exist (expired or revoked).
  absl::StatusOr<int64_t> time_to_live(int64_t lease_id);

  // One endpoint's channel and stubs. Holders keep it alive while a new one replaces it.
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;            // shared by the stubs
    std::unique_ptr<etcdserverpb::KV::Stub> kv;        // Range, Put, DeleteRange
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;  // Watch stream
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;  // Grant, Revoke, KeepAlive, TimeToLive
  };
  // The endpoint calls and streams should use now.
  size_t current() const { return current_.load(std::memory_order_relaxed); }
  std::shared_ptr<Connection> connection(size_t endpoint) const;
  const std::string& endpoint_name(size_t endpoint) const { return targets_[endpoint]; }
  // A call or stream on `conn` (of `endpoint`) failed at the transport level: the endpoint gets
  // a fresh channel (gRPC's own channel, once in TRANSIENT_FAILURE, may sit out a back-off and
  // then wait idle instead of reconnecting) and calls move on to the next endpoint.
  void failed(size_t endpoint, const Connection* conn);

  // A watch or keep-alive stream on `conn` ended without being asked to: the endpoint gets a
  // fresh channel (failed()) and the error says why ("<what> stream ended" when gRPC's status
  // hides the cause, since we cancel only after a Read failed).
  absl::Status stream_broke(size_t endpoint, const Connection* conn, std::string_view what,
                            const grpc::Status& status);

  // "etcd <endpoint>: <what>: <gRPC code>: <message>"; UNAVAILABLE for transport failures.
  absl::Status to_status(size_t endpoint, std::string_view what, const grpc::Status& s) const;

  std::chrono::milliseconds call_timeout() const { return call_timeout_; }

 private:
  // Unary call on the current endpoint with the call timeout; waits for the channel to connect
  // (within the deadline) instead of failing fast during its reconnect back-off.
  // `call(connection, context, response)` issues the RPC.
  template <typename Resp, typename Call>
  absl::StatusOr<Resp> unary(std::string_view what, Call call);

  std::shared_ptr<Connection> connect(size_t endpoint) const;

  std::vector<std::string> targets_;                     // host:port per configured endpoint
  mutable std::mutex mu_;                                // guards connections_
  std::vector<std::shared_ptr<Connection>> connections_;  // one per endpoint
  std::atomic<size_t> current_{0};                       // index calls use now
  std::chrono::milliseconds call_timeout_;               // deadline of unary calls
  std::chrono::milliseconds max_backoff_;                // cap of gRPC's reconnect back-off
};

// Transport-level failures (the member is down or unreachable), as opposed to answers.
bool is_transport_failure(grpc::StatusCode code);

}  // namespace ringside::resolvers::etcd
