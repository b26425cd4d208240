#pragma once
// AppChannel: how the callee sidecar delivers an invocation to its own app (the seam between
// CallLocal / CallLocalStream and the app protocol). HTTP and gRPC AppCallback/OnInvoke plug in
// here.
//
// Two kinds of call:
//  - unary (invoke): the whole request in, the whole answer out (CallLocal, self-invocation);
//  - streaming (invoke_stream, channels with streams()): the request body is sent piece by
//    piece while the call runs, the answer comes back as a head and body pieces, and both
//    directions carry back-pressure, so a body larger than memory crosses with a bounded
//    amount of it held here (CallLocalStream, spec §2.3).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/mem/buffer.h"

namespace ringside::invoke {

class AppCallCompletion {
 public:
  virtual ~AppCallCompletion() = default;
  // The app answered; `internal_invoke_response` is an encoded InternalInvokeResponse, valid
  // only during the call.
  virtual void on_app_response(std::string_view internal_invoke_response) = 0;
  // The app could not be called: the gRPC status the callee sidecar reports (spec §2.3).
  virtual void on_app_error(int grpc_code, std::string_view message) = 0;

  // Issue 11 (one copy of the body fewer): a completion that answers true may get
  // on_app_response_adopting() instead of on_app_response() from a channel that received the
  // body into a buffer of its own (the HTTP app channel).
  virtual bool adopts_response_body() const { return false; }
  // The app answered: the encoded InternalInvokeResponse is `head` (encoded body last,
  // codec::encode_all_but_body) followed by the body_size bytes at body_offset from
  // body_owner->data(). The completion takes *body_owner (moves it out, leaving it empty) to
  // send the body from where it arrived; `head` is valid during the call only.
  virtual void on_app_response_adopting(std::string_view head, mem::Buffer* body_owner,
                                        size_t body_offset, size_t body_size) {
    (void)head, (void)body_owner, (void)body_offset, (void)body_size;
  }
};

// Streaming delivery (CallLocalStream -> app). Callbacks of one call come in this order:
// on_app_response_head once, then any number of on_app_response_body, then exactly one of
// on_app_response_end / on_app_stream_error (the last callback; on_app_stream_error may also
// come first, instead of the head). on_app_request_writable may come at any time before the
// last callback. Every view is valid during the callback only.
class AppStreamCompletion {
 public:
  virtual ~AppStreamCompletion() = default;
  // The app's answer without its body: an encoded InternalInvokeResponse (status, headers,
  // content_type as the unary path builds them). message.data carries no body bytes, or bytes
  // that are to be ignored (they follow as body pieces).
  virtual void on_app_response_head(std::string_view internal_invoke_response) = 0;
  // The next piece of the answer's body.
  virtual void on_app_response_body(std::span<const uint8_t> bytes) = 0;
  // The answer is complete.
  virtual void on_app_response_end() = 0;
  // The call failed: the gRPC status the callee sidecar reports (spec §2.3).
  virtual void on_app_stream_error(int grpc_code, std::string_view message) = 0;
  // The request bytes queued so far have been written out: request_queued() is low again.
  virtual void on_app_request_writable() = 0;
};

struct AppCall;  // opaque per-call state owned by the channel

class AppChannel {
 public:
  virtual ~AppChannel() = default;
  // Starts delivering `request`. The request (and all it views) stays valid until a completion
  // callback runs or cancel() is called. A completion may run before invoke() returns; then
  // the result is nullptr.
  virtual AppCall* invoke(const codec::InternalInvokeRequestView& request,
                          AppCallCompletion* done) = 0;
  // The caller lost interest: no completion will be delivered for this call (unary or
  // streaming). Not to be called after the call's last callback.
  virtual void cancel(AppCall* call) = 0;
  // Closes idle connections and refuses new calls (shutdown).
  virtual void shutdown() = 0;

  // ---- streaming calls (only where streams() is true) ----
  // Re-entrancy: callbacks of a streaming call may run inside invoke_stream (an error only),
  // send_request_body / end_request_body (an error only) and resume_response (body pieces, the
  // end, an error); never inside cancel, pause_response or request_queued.
  virtual bool streams() const { return false; }
  // Starts a call whose body follows through send_request_body / end_request_body.
  // request.message.data.value is empty (it may carry data.type_url); `body_length` is the
  // total body size when known, -1 when not. The request and its views stay valid until the
  // last callback or cancel(). nullptr when `done` already got its last callback.
  virtual AppCall* invoke_stream(const codec::InternalInvokeRequestView& request,
                                 int64_t body_length, AppStreamCompletion* done) {
    (void)request;
    (void)body_length;
    done->on_app_stream_error(12, "error invoking app channel: streaming is not supported");
    return nullptr;
  }
  // Queues the next request body bytes (copied). False when the call failed (its error
  // callback has run): do not use the call any more.
  virtual bool send_request_body(AppCall* call, std::span<const uint8_t> bytes) {
    (void)call;
    (void)bytes;
    return false;
  }
  // Request bytes accepted but not yet written out. Stop sending at a high watermark and wait
  // for on_app_request_writable().
  virtual size_t request_queued(const AppCall* call) const {
    (void)call;
    return 0;
  }
  // No more request body. The body sent must match a known body_length, else the call fails.
  virtual void end_request_body(AppCall* call) { (void)call; }
  // No on_app_response_body() until resume_response() (reading from the app stops, so the
  // app is back-pressured in turn). The end or an error may still be reported meanwhile.
  virtual void pause_response(AppCall* call) { (void)call; }
  virtual void resume_response(AppCall* call) { (void)call; }
};

}  // namespace ringside::invoke
