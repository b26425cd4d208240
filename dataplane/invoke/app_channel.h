#pragma once
// AppChannel: how the callee sidecar delivers an invocation to its own app (the seam between
// CallLocal and the app protocol). HTTP today; gRPC AppCallback/OnInvoke plugs in here.
#include <string_view>

#include "dataplane/codec/invoke_messages.h"

namespace ringside::invoke {

class AppCallCompletion {
 public:
  virtual ~AppCallCompletion() = default;
  // The app answered; `internal_invoke_response` is an encoded InternalInvokeResponse, valid
  // only during the call.
  virtual void on_app_response(std::string_view internal_invoke_response) = 0;
  // The app could not be called: the gRPC status the callee sidecar reports (spec §2.3).
  virtual void on_app_error(int grpc_code, std::string_view message) = 0;
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
  // The caller lost interest: no completion will be delivered for this call.
  virtual void cancel(AppCall* call) = 0;
  // Closes idle connections and refuses new calls (shutdown).
  virtual void shutdown() = 0;
};

}  // namespace ringside::invoke
