#pragma once
// choose_peer: the one place a caller picks where an invocation of app_id goes: the instances
// of the current InstanceTable, the shard's picker (lb/picker.h) over them, then this shard's
// pinned connection to the chosen instance (dialled on first use). Unary invocations,
// CallLocalStream callers and the gRPC proxy all use it, so load balancing and cluster
// strategies plug in here once.
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/runtime/shard_services.h"

namespace ringside::upstream {
class PeerConnection;
}

namespace ringside::invoke {

struct PeerChoice {
  enum class Outcome {
    kOk,           // conn and authority are set
    kNoInstance,   // no instance of app_id in namespace ns (the table says so)
    kUnknown,      // the table has no answer for app_id yet: a lookup was requested; park and retry
    kUnreachable,  // an instance exists but no connection can be made now (dial back-off)
    kOverloaded,   // every connection to the instance is full and its wait queue too
  };
  Outcome outcome = Outcome::kNoInstance;
  upstream::PeerConnection* conn = nullptr;  // the connection to call on
  std::string_view authority;            // "host:port" of the instance (:authority); valid until
                                         // the caller returns to the event loop
  uint64_t instance_id = 0;              // the chosen instance (kOk, kUnreachable)
};

// `ns` empty = the caller's own namespace.
// An app id the table has no answer for yields kUnknown after asking the control plane to
// look it up (at most once per table per app id; no allocation).
// `exclude`: instances this call already failed on. They are avoided while another instance
// exists; with none left, the pick ignores them (a retry to the only instance).
// `hash_key`: the call's consistent-hash key (upstream/request_hash_key.h; 0 = none).
PeerChoice choose_peer(ShardServices* svc, std::string_view app_id, std::string_view ns,
                       std::span<const uint64_t> exclude = {}, uint64_t hash_key = 0);

// The UNAVAILABLE text for a choice without a connection (kUnreachable, kOverloaded), as the
// desc of "rpc error: code = Unavailable desc = ...".
std::string_view unavailable_text(const PeerChoice& c);

}  // namespace ringside::invoke
