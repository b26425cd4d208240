#pragma once
// Turns the resolved Resiliency resources (controlplane/config/resiliency_config.h) into the
// Policies the shards read. Start-up only.
#include "controlplane/config/resiliency_config.h"
#include "dataplane/resiliency/policies.h"

namespace ringside::resiliency {

Policies compile_policies(const config::ResolvedResiliency& resolved);

}  // namespace ringside::resiliency
