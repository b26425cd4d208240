#include "dataplane/mapping/caller_metadata.h"

#include <cstdio>

#include "dataplane/mapping/api_token.h"

namespace ringside::invoke {

bool add_caller_metadata(MetadataBuilder& md, const SidecarSettings& s,
                         std::string_view callee_app_id, bool self_call) {
  // The caller's own API token is for this sidecar only: never to a peer or an app (the callee
  // sends its APP_API_TOKEN instead).
  md.remove(kApiTokenKey);
  if (self_call) {
    md.remove("dapr-caller-app-id");
    md.remove("dapr-callee-app-id");
    md.remove("dapr-caller-namespace");
  } else {
    size_t cap = s.host_ip.size() * 2 + s.hostname.size() + 16;
    char* fwd = md.reserve_text(cap);
    if (!fwd) return false;
    int n = snprintf(fwd, cap, "for=%s;by=%s;host=%s", s.host_ip.c_str(), s.host_ip.c_str(),
                     s.hostname.c_str());
    bool ok = md.add("X-Forwarded-For", s.host_ip) && md.add("X-Forwarded-Host", s.hostname) &&
              md.add("Forwarded", std::string_view(fwd, n > 0 ? static_cast<size_t>(n) : 0)) &&
              md.add("destination-app-id", callee_app_id);
    if (!ok) return false;
  }
  return md.add("dapr-caller-namespace", s.app_namespace) && md.add("dapr-caller-app-id", s.app_id) &&
         md.add("dapr-callee-app-id", callee_app_id);
}

}  // namespace ringside::invoke
