#pragma once
// AppConcurrencyGate: --app-max-concurrency in front of a shard's app channel. A call that finds
// a permit (app_concurrency.h, shared by all shards) goes to the app at once; otherwise it waits
// in this shard's FIFO, at most --app-concurrency-queue of them and --app-concurrency-timeout
// each, then fails RESOURCE_EXHAUSTED without reaching the app. A waiting call moves on when a
// call of this shard finishes, or, for permits freed on other shards, at the next 1 ms poll
// (shards share no wake-up path, so the poll runs only while calls wait).
//
// Streaming calls may send body bytes while they wait: the gate holds them and reports them as
// queued above the high watermark, so the caller's flow control stops the peer until the call
// starts (held memory is bounded by one stream window).
#include <cstdint>

#include "dataplane/appchannel/app_channel.h"
#include "dataplane/callee/app_concurrency.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/runtime/shard_services.h"

namespace ringside::invoke {

class AppConcurrencyGate final : public AppChannel {
 public:
  AppConcurrencyGate(ShardServices* svc, AppChannel* inner, AppConcurrency* permits,
                     uint32_t max_waiting, int64_t wait_timeout_ns);
  ~AppConcurrencyGate() override;

  AppCall* invoke(const codec::InternalInvokeRequestView& request, AppCallCompletion* done) override;
  void cancel(AppCall* call) override;
  void shutdown() override;
  bool streams() const override { return inner_->streams(); }
  AppCall* invoke_stream(const codec::InternalInvokeRequestView& request, int64_t body_length,
                         AppStreamCompletion* done) override;
  bool send_request_body(AppCall* call, std::span<const uint8_t> bytes) override;
  size_t request_queued(const AppCall* call) const override;
  void end_request_body(AppCall* call) override;
  void pause_response(AppCall* call) override;
  void resume_response(AppCall* call) override;

  // Calls of this shard waiting for a permit.
  uint32_t waiting() const { return waiting_; }

 private:
  struct Gated;
  friend struct Gated;

  AppCall* admit(Gated* g);
  // Hands `g` (holding a permit) to the app channel; false when it finished meanwhile (freed).
  bool start(Gated* g);
  // `g` got its last callback or was cancelled: the permit goes back, waiters move on.
  void finish(Gated* g);
  void promote();
  void enqueue(Gated* g);
  void unlink(Gated* g);
  void fail_waiting(Gated* g, int code, std::string_view message);
  static void on_poll(void* self);
  static void on_wait_timeout(void* g);

  ShardServices* svc_;
  AppChannel* inner_;           // the HTTP or gRPC app channel (owned by the shard)
  AppConcurrency* permits_;     // shared by all shards
  uint32_t max_waiting_;        // --app-concurrency-queue
  int64_t wait_timeout_ns_;     // --app-concurrency-timeout
  Gated* head_ = nullptr;       // FIFO of waiting calls
  Gated* tail_ = nullptr;
  uint32_t waiting_ = 0;
  bool promoting_ = false;      // promote() is on the stack (starts may finish synchronously)
  bool shut_down_ = false;
  shard::Timer poll_;           // re-checks permits while calls wait
  char refusal_[160];           // "too many concurrent calls" text (constant per process)
  std::string_view refusal_text_;
};

}  // namespace ringside::invoke
