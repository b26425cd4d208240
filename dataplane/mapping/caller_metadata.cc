#include "dataplane/mapping/caller_metadata.h"

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
    bool ok = md.add("X-Forwarded-For", s.host_ip) && md.add("X-Forwarded-Host", s.hostname) &&
              md.add("Forwarded", s.forwarded) &&
              md.add("destination-app-id", callee_app_id);
    if (!ok) return false;
  }
  return md.add("dapr-caller-namespace", s.app_namespace) && md.add("dapr-caller-app-id", s.app_id) &&
         md.add("dapr-callee-app-id", callee_app_id);
}

}  // namespace ringside::invoke
