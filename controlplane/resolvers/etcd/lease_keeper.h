// Our registration in etcd: a lease of leaseTTL seconds, our key attached to it, and a
// LeaseKeepAlive stream refreshing it every keepAliveInterval on a thread of its own. If the
// lease is lost (expired while we could not reach etcd, revoked by an operator, etcd's data
// wiped) the next keep-alive answer says TTL <= 0 and we grant a new lease and write the key
// again. stop(revoke=true) revokes the lease, which deletes the key: a clean deregistration.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "controlplane/resolvers/etcd/etcd_client.h"
#include "controlplane/resolvers/active_stream.h"
#include "controlplane/resolvers/stop_signal.h"

namespace ringside::resolvers::etcd {

class LeaseKeeper {
 public:
  LeaseKeeper(EtcdClient* client, std::string key, std::string value, std::chrono::seconds ttl,
              std::chrono::milliseconds interval, std::chrono::milliseconds max_backoff);
  ~LeaseKeeper() { stop(false); }

  // Grants a lease and writes our key under it, synchronously (start-up).
  absl::Status register_now();
  // Starts the keep-alive thread.
  void start();
  // Ends the thread; with `revoke`, revokes the lease (deletes our key). Safe to call twice.
  void stop(bool revoke);

  // Our key was deleted while our lease may still live (an operator's `etcdctl del`): write it
  // again at the next keep-alive. Any thread.
  void key_deleted() {
    if (!withdrawn_.load()) rewrite_.store(true);  // issue 10: a withdrawn key stays deleted
  }
  // Issue 10, app health: false deletes our key (the lease lives on, kept alive, so coming back
  // is one put); true writes it again. Control thread; blocking (within etcd's dial timeout).
  absl::Status set_serving(bool serving);

  int64_t lease_id() const { return lease_id_.load(); }            // 0 = none
  int registrations() const { return registrations_.load(); }      // successful (re)registrations
  const std::string& key() const { return key_; }

 private:
  void run();
  // One keep-alive stream until it fails (UNAVAILABLE...), stop() (OK) or the lease is gone
  // (NOT_FOUND).
  absl::Status keep_alive(Backoff& backoff);
  void log(const std::string& text);
  void log_failure(const std::string& text);   // first failure of an outage only
  void log_recovery(const std::string& text);  // after a logged failure only

  EtcdClient* client_;                      // shared with the watcher
  std::string key_;                         // <prefix>/<ns>/<app>/<address>
  std::string value_;                       // encoded InstanceRecord
  std::chrono::seconds ttl_;                // lease TTL asked for
  std::chrono::milliseconds interval_;      // keep-alive period
  std::chrono::milliseconds max_backoff_;   // reconnect back-off cap
  std::atomic<int64_t> lease_id_{0};        // current lease; 0 = none
  std::atomic<int> registrations_{0};       // grant+put successes
  std::atomic<bool> rewrite_{false};        // key_deleted() was called: put the key again
  std::atomic<bool> withdrawn_{false};      // issue 10: our app is unhealthy; keep the key out
  StopSignal stop_;                         // ends sleeps and the loop
  ActiveStream active_{&stop_};                    // the open stream, cancelled by stop()
  bool failing_ = false;                    // a failure was logged and nothing succeeded since
  std::thread thread_;                      // runs run()
  bool stopped_ = false;                    // stop() already ran
};

}  // namespace ringside::resolvers::etcd
