// RegistryReader: reads the own cluster's registry through an existing resolver, watch only
// (an empty SelfRegistration app id: the synchronizer is not an app instance and registers
// nothing). Listing resolvers (sqlite, static) are listed every refresh interval on the
// reader's thread; pushing ones (etcd) report through this InstanceSink's publish_all.
// Either way the complete view goes to SyncState::set_local.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "controlplane/resolvers/resolver.h"
#include "controlplane/sync/sync_state.h"

namespace ringside::sync {

class RegistryReader final : public resolvers::InstanceSink {
 public:
  RegistryReader(std::unique_ptr<resolvers::Resolver> resolver, SyncState* state, std::chrono::milliseconds refresh);
  ~RegistryReader() override;  // stop()

  // Starts the resolver; a listing one is read once before this returns. Errors are start-up
  // errors (the registry cannot be opened).
  absl::Status start();
  void stop();

  void publish_all(std::vector<snapshot::Instance> instances) override;
  void publish_app(std::string app_id, std::string ns, std::vector<snapshot::Instance> instances) override;
  void report_status(const absl::Status& status) override;

 private:
  void poll_loop();
  void read_once();

  std::unique_ptr<resolvers::Resolver> resolver_;  // the registry
  SyncState* const state_;                         // where the view goes
  const std::chrono::milliseconds refresh_;        // listing period

  std::mutex mu_;                   // guards stopping_, last_error_
  std::condition_variable wake_;    // stop() ends the poll wait
  bool stopping_ = false;           // stop() was called
  bool started_ = false;            // resolver started (stop it once)
  std::string last_error_;          // last logged registry error ("" = none): logged once per text
  std::thread poller_;              // listing resolvers only
};

// A resolver's instance in the wire form (cluster left for SyncState to set).
v1::Instance to_wire(const snapshot::Instance& instance);

}  // namespace ringside::sync
