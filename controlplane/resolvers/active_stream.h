// ActiveStream: the one gRPC stream a resolver thread (watch or keep-alive) has open, so that
// stop() on another thread can end the loop and cancel that stream without racing its start.
#pragma once

#include <mutex>

#include <grpcpp/client_context.h>

#include "controlplane/resolvers/stop_signal.h"

namespace ringside::resolvers {

class ActiveStream {
 public:
  explicit ActiveStream(StopSignal* stop) : stop_(stop) {}

  // Registers `ctx` as the open stream's; false when stop already came (do not open it).
  bool begin(grpc::ClientContext* ctx) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_->stopped()) return false;
    active_ = ctx;
    return true;
  }
  // The stream is finished; its context may go.
  void end() {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = nullptr;
  }
  // Stops the loop and cancels the open stream, atomically with respect to begin().
  void stop_and_cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    stop_->stop();
    if (active_ != nullptr) active_->TryCancel();
  }

 private:
  StopSignal* stop_;                        // the loop's stop signal
  std::mutex mu_;                           // guards active_ against begin()/stop races
  grpc::ClientContext* active_ = nullptr;   // the open stream's context
};

}  // namespace ringside::resolvers
