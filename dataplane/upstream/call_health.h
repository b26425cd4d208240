#pragma once
// Call health: what callers (unary invocations, the gRPC proxy) tell the shard's picker about
// their calls to peer instances — start (least-request counts) and end with a verdict (outlier
// ejection) — and the retry question "is another instance usable right now?", which decides
// whether a built-in retry waits 1 s (same/only instance) or goes at once elsewhere.
// No allocation after the first call per instance.
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/runtime/shard_services.h"
#include "dataplane/upstream/lb/picker.h"

namespace ringside::upstream {

// The verdict on the peer sidecar for a finished call's gRPC status: UNAVAILABLE (14) and
// INTERNAL (13) count against the instance, any other answer shows its sidecar is alive.
lb::CallOutcome outcome_of_grpc_status(int grpc_status);

void note_call_start(invoke::ShardServices* svc, uint64_t instance_id);
void note_call_end(invoke::ShardServices* svc, uint64_t instance_id, lb::CallOutcome outcome);

// Whether app_id/ns has an instance outside `exclude` that is neither ejected nor in dial
// back-off: a retry can go there without waiting.
bool another_instance_usable(invoke::ShardServices* svc, std::string_view app_id, std::string_view ns,
                             std::span<const uint64_t> exclude);

}  // namespace ringside::upstream
