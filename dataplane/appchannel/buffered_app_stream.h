#pragma once
// BufferedAppStream: the streaming side of AppChannel (invoke_stream & co.) for ONE call, on
// top of a channel that only takes whole requests (GrpcAppChannel: OnInvoke is unary). The
// request body is assembled (the caller bounds it by --max-body-size) and delivered with
// invoke() at end_request_body(); the answer is held and handed back in pieces of
// kPieceBytes while the reader is not paused. So CallLocalStream has one code path, and a gRPC
// app keeps exactly the assemble-then-invoke behaviour it had.
//
// Lifetime: created from the shard pool for one call; after its last callback or at cancel()
// it is handed to the shard's deferred release (destroyed at the end of the loop turn, so
// frames of its own still on the stack stay valid).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/appchannel/app_channel.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/deferred_release.h"

namespace ringside::invoke {

class BufferedAppStream final : public AppChannel, public AppCallCompletion {
 public:
  static constexpr size_t kPieceBytes = size_t{64} << 10;

  // nullptr when the pool is empty.
  static BufferedAppStream* create(mem::ShardPool* pool, mem::DeferredRelease* deferred,
                                   AppChannel* inner);
  BufferedAppStream(mem::ShardPool* pool, mem::DeferredRelease* deferred, AppChannel* inner);

  // AppChannel, for the single call this object carries.
  bool streams() const override { return true; }
  AppCall* invoke(const codec::InternalInvokeRequestView& request, AppCallCompletion* done) override;
  AppCall* invoke_stream(const codec::InternalInvokeRequestView& request, int64_t body_length,
                         AppStreamCompletion* done) override;
  bool send_request_body(AppCall* call, std::span<const uint8_t> bytes) override;
  size_t request_queued(const AppCall*) const override { return 0; }  // held, not queued
  void end_request_body(AppCall* call) override;
  void pause_response(AppCall*) override { paused_ = true; }
  void resume_response(AppCall* call) override;
  void cancel(AppCall* call) override;
  void shutdown() override {}

  // AppCallCompletion: the inner channel's answer.
  void on_app_response(std::string_view internal_invoke_response) override;
  void on_app_error(int grpc_code, std::string_view message) override;

 private:
  // Body pieces while not paused, then the end.
  void deliver();
  // The call is over for us: released (destroyed at the end of the loop turn).
  void finish();

  mem::DeferredRelease* deferred_;           // where we go when the call is over
  AppChannel* inner_;                        // the unary channel doing the work
  AppStreamCompletion* done_ = nullptr;      // nullptr once the last callback ran or cancelled
  codec::InternalInvokeRequestView request_; // the head, plus the body at end_request_body
  mem::Buffer body_;                         // assembled request body
  AppCall* inner_call_ = nullptr;            // in flight on inner_
  mem::Buffer response_;                     // the app's InternalInvokeResponse
  std::string_view response_body_;           // its body bytes (inside response_)
  size_t delivered_ = 0;                     // body bytes handed on
  bool paused_ = false;                      // pause_response(): no body pieces
  bool delivering_ = false;                  // deliver() on the stack
  bool finished_ = false;                    // released: no more callbacks, no more work
};

}  // namespace ringside::invoke
