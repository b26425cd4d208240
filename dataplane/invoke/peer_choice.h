#pragma once
// choose_peer: the one place a caller picks where an invocation of app_id goes: the current
// InstanceTable, the round-robin cursor of this shard, then this shard's pinned connection to
// that instance. Unary invocations, CallLocalStream callers and the gRPC proxy all use it, so
// a future load balancer or cluster strategy plugs in here once.
#include <string_view>

#include "dataplane/invoke/shard_services.h"

namespace ringside::pool {
class PeerConnection;
}

namespace ringside::invoke {

struct PeerChoice {
  enum class Outcome {
    kOk,           // conn and authority are set
    kNoInstance,   // no instance of app_id in namespace ns
    kUnreachable,  // an instance exists but no connection can be made now (dial back-off)
  };
  Outcome outcome = Outcome::kNoInstance;
  pool::PeerConnection* conn = nullptr;  // the connection to call on
  std::string_view authority;            // "host:port" of the instance (:authority); valid until
                                         // the caller returns to the event loop
};

PeerChoice choose_peer(ShardServices* svc, std::string_view app_id, std::string_view ns);

}  // namespace ringside::invoke
