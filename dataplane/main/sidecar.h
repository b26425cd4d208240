#pragma once
// Sidecar: assembles one ringsided process from its Options: listeners, control plane,
// metrics, shards; runs until SIGTERM/SIGINT; then drains and deregisters.
#include "controlplane/config/options.h"

namespace ringside {

// Exit codes: 0 clean shutdown, 1 runtime failure (port in use, io_uring unavailable, registry
// unreachable), 2 bad configuration. Messages go to stderr.
int run_sidecar(config::Options options);

}  // namespace ringside
