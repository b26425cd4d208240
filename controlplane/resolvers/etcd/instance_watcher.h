// Discovery: every registration under the prefix, kept current by one Watch stream.
// Lists the prefix (Range), publishes the full view, then watches from the listed revision + 1
// and publishes the full view again after every batch of changes. On a compacted-revision
// answer it lists again. While etcd is unreachable it reports the error through the sink
// (the control plane keeps serving the last table: nothing is published because of an outage)
// and reconnects with back-off, resuming the watch after the last revision it saw.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "controlplane/resolvers/etcd/etcd_client.h"
#include "controlplane/resolvers/active_stream.h"
#include "controlplane/resolvers/stop_signal.h"
#include "controlplane/resolvers/resolver.h"
#include "controlplane/snapshot/instance.h"

namespace ringside::resolvers::etcd {

class InstanceWatcher {
 public:
  // `on_delete(key)` runs on the watch thread for every key deleted under the prefix (the
  // resolver uses it to notice its own key vanishing); may be empty.
  InstanceWatcher(EtcdClient* client, std::string prefix, InstanceSink* sink, std::chrono::milliseconds max_backoff,
                  std::function<void(const std::string&)> on_delete = {});
  ~InstanceWatcher() { stop(); }

  // Lists once, synchronously, and publishes (start-up). Error when etcd cannot be read.
  absl::Status list();
  // Starts the watch thread (lists first if list() has not succeeded).
  void start();
  // Ends the watch and joins. Safe to call twice.
  void stop();
  // Answers a lookup for (app_id, ns) from the current view through publish_app; before the
  // first list it is answered right after that list.
  void lookup(std::string_view app_id, std::string_view ns);

  int64_t revision() const;  // last revision seen (tests)
  int lists() const;         // how many times the prefix was listed (tests)

 private:
  void run();
  // One Watch stream from revision_ + 1 until it fails (error), is compacted (OK, need_list_
  // set) or stop() (OK).
  absl::Status watch(Backoff& backoff);
  // Applies one event to by_key_; true when the view changed.
  bool apply(const mvccpb::Event& event);
  // Instance for one stored value, or nullopt (logged) when the value is unusable.
  std::optional<snapshot::Instance> instance_of(const std::string& key, const std::string& value);
  void publish_locked();
  void report(const absl::Status& s);

  EtcdClient* client_;                              // shared with the lease keeper
  std::string key_prefix_;                          // "<prefix>/"
  InstanceSink* sink_;                              // where views go
  std::chrono::milliseconds max_backoff_;           // reconnect back-off cap
  std::function<void(const std::string&)> on_delete_;  // see the constructor
  mutable std::mutex mu_;                           // guards the view and the fields below
  std::map<std::string, snapshot::Instance> by_key_;  // the view: etcd key -> instance
  int64_t revision_ = 0;                            // last revision reflected in by_key_
  bool listed_ = false;                             // by_key_ came from a list
  bool need_list_ = true;                           // list before (re)watching
  int lists_ = 0;                                   // successful lists
  std::vector<std::pair<std::string, std::string>> pending_lookups_;  // (app, ns) asked before the first list
  bool reported_error_ = false;                     // the sink holds an error (clear it on success)
  std::string last_bad_value_;                      // last unusable value logged (log each once)
  StopSignal stop_;                                 // ends sleeps and the loop
  ActiveStream active_{&stop_};                    // the open stream, cancelled by stop()
  std::thread thread_;                              // runs run()
  bool stopped_ = false;                            // stop() already ran
};

}  // namespace ringside::resolvers::etcd
