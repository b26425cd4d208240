#include "controlplane/apphealth/health_decider.h"

namespace ringside::apphealth {

HealthDecider::HealthDecider(int threshold)
    : threshold_(threshold < 1 ? 1 : threshold), failures_(threshold_) {}

HealthDecider::Transition HealthDecider::record(bool probe_succeeded) {
  const bool was_healthy = healthy();
  if (probe_succeeded) {
    failures_ = 0;
    return was_healthy ? Transition::kNone : Transition::kBecameHealthy;
  }
  // daprd only counts failures that change nothing while unhealthy; capping at threshold + 1
  // keeps the count meaningful ("failed N times") without overflowing on a long outage.
  if (failures_ <= threshold_) ++failures_;
  return was_healthy && !healthy() ? Transition::kBecameUnhealthy : Transition::kNone;
}

}  // namespace ringside::apphealth
