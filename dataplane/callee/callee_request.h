#pragma once
// The callee side's checks on an InternalInvokeRequest before it goes to our app, shared by
// unary CallLocal and CallLocalStream (spec §2.2, §2.3, §4.1): API version V1, the method
// normalized once more, an app channel present, and the access-control list (spec §10).
#include <span>
#include <string_view>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/tls/spiffe_id.h"

namespace ringside::invoke {

// Issue 10: daprd's text (messages.ErrAppUnhealthy) when app health checks found the app
// unhealthy; sent with gRPC Internal, so HTTP callers get 500 ERR_DIRECT_INVOKE.
inline constexpr std::string_view kAppUnhealthyText = "app is not in a healthy state";

// 0 when the request may go to the app: then v->message.method views the normalized method in
// `method_storage`. Otherwise the gRPC code to answer, with *error formatted into `text`.
// `caller`: the caller's identity from mTLS (nullptr without), for access control.
int check_request_for_app(codec::InternalInvokeRequestView* v, const SidecarSettings& settings,
                          bool has_app, const tls::SpiffeId* caller, mem::Buffer* method_storage,
                          std::span<char> text, std::string_view* error);

}  // namespace ringside::invoke
