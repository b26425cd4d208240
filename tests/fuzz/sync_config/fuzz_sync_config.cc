// Fuzzes ringside-sync's config parser (any text): an error, or a configuration whose
// invariants hold (peers named, with addresses and a token; the TTL outlives the heartbeat).
#include <cstddef>
#include <cstdint>
#include <string>

#include "controlplane/sync/sync_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ringside::sync::SyncConfig> c = ringside::sync::parse_sync_config(text);
  if (!c.ok()) {
    if (c.status().message().empty()) __builtin_trap();  // every error says what is wrong
    return 0;
  }
  for (const ringside::sync::PeerConfig& p : c->peers) {
    if (p.cluster.empty() || p.addresses.empty() || p.token.empty()) __builtin_trap();
  }
  if (c->export_ttl <= c->heartbeat) __builtin_trap();
  if (c->max_subscribers == 0 || c->subscriber_queue == 0) __builtin_trap();
  return 0;
}
