#include "dataplane/callee/callee_request.h"

#include <algorithm>
#include <cstdio>

#include "dataplane/http1/method_normalize.h"
#include "dataplane/mapping/access_control.h"

namespace ringside::invoke {
namespace {
std::string_view formatted(std::span<char> text, int n) {
  return {text.data(), n > 0 ? std::min<size_t>(static_cast<size_t>(n), text.size() - 1) : 0};
}
}  // namespace

int check_request_for_app(codec::InternalInvokeRequestView* v, const SidecarSettings& settings,
                          bool has_app, const CallerIdentity* caller, mem::Buffer* method_storage,
                          std::span<char> text, std::string_view* error) {
  if (v->ver != 1) {
    *error = formatted(text, snprintf(text.data(), text.size(),
                                      "error invoking app channel: Unsupported spec version: %d",
                                      v->ver));
    return 13;  // Internal
  }
  std::string_view method = v->message.method;
  std::string_view normalized;
  method_storage->clear();
  if (!method_storage->reserve(method.size() + 1) ||
      http1::normalize_method(method,
                              std::span<char>(reinterpret_cast<char*>(method_storage->tail()),
                                              method_storage->tail_room()),
                              &normalized) != http1::MethodCheck::kOk) {
    *error = formatted(text, snprintf(text.data(), text.size(), "invalid method: %.*s",
                                      static_cast<int>(std::min<size_t>(method.size(), 400)),
                                      method.data()));
    return 3;  // InvalidArgument
  }
  v->message.method = normalized;
  // The caller's identity comes from its mTLS certificate; without mTLS there is none and the
  // global default decides (as in daprd).
  if (const AccessControlList* acl = settings.access_control.get()) {
    const auto verb = static_cast<http1::Verb>(v->message.http_extension.verb);
    if (!acl->allows(caller, normalized, verb)) {
      *error = access_denied_text(caller, normalized, verb, text);
      return 7;  // PermissionDenied: HTTP callers answer 403
    }
  }
  if (!has_app) {
    *error = "app channel is not initialized";
    return 13;
  }
  // Issue 10: daprd's app channel refuses every call while the app is unhealthy (Internal).
  if (settings.app_unhealthy()) {
    *error = kAppUnhealthyText;
    return 13;
  }
  return 0;
}

}  // namespace ringside::invoke
