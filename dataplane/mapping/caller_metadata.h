#pragma once
// The metadata the calling sidecar adds to every invocation it originates (spec §5.2), whatever
// API the call came in on (HTTP /v1.0/invoke, gRPC InvokeService).
#include <string_view>

#include "dataplane/mapping/metadata_builder.h"
#include "dataplane/runtime/sidecar_settings.h"

namespace ringside::invoke {

// Remote calls get X-Forwarded-For/-Host, Forwarded and destination-app-id appended; a self-call
// instead has any client-supplied dapr-caller-*/dapr-callee-* keys removed (case-insensitively).
// Both are then stamped with our identity and the callee's. False when `md` is full.
bool add_caller_metadata(MetadataBuilder& md, const SidecarSettings& s,
                         std::string_view callee_app_id, bool self_call);

}  // namespace ringside::invoke
