// Exporter: keeps one Export stream open to one peer cluster's synchronizers and pushes our own
// cluster's table over it: the full table when the stream opens and whenever the registry
// changes, a heartbeat every heartbeat interval otherwise. The peer's addresses are tried in
// turn; when all fail, the next round waits a capped, jittered back-off. A stream that gets no
// acknowledgement for 3 heartbeats is treated as dead (a black-holed peer never errors).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "controlplane/sync/sync_config.h"
#include "controlplane/sync/sync_state.h"

namespace grpc {
class ClientContext;
}

namespace ringside::sync {

struct ExportTiming {
  std::chrono::milliseconds heartbeat{2000};           // heartbeat interval
  std::chrono::milliseconds initial_backoff{100};      // first wait after every address failed
  std::chrono::milliseconds max_backoff{5000};         // cap of the doubling back-off
};

class Exporter {
 public:
  Exporter(PeerConfig peer, SyncState* state, std::string sync_id, ExportTiming timing);
  ~Exporter();  // stop()

  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  void start();
  // Cancels the open stream and joins the thread. Idempotent.
  void stop();

 private:
  void run();
  // One stream to `address`; true when the peer acknowledged at least one message.
  bool run_stream(const std::string& address);
  void sleep_for(std::chrono::milliseconds d);

  const PeerConfig peer_;              // the peer cluster, its addresses and token
  SyncState* const state_;             // our local table and the export counters
  const std::string sync_id_;          // our process id for the peer's logs
  const ExportTiming timing_;          // heartbeat and back-off

  std::mutex mu_;                      // guards active_ and stopping_ for stop()
  std::condition_variable wake_;       // back-off sleeps end early on stop()
  bool stopping_ = false;              // stop() was called
  grpc::ClientContext* active_ = nullptr;  // the open stream's context (TryCancel on stop)
  std::thread thread_;                 // the export loop
};

}  // namespace ringside::sync
