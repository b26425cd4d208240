// The Synchronizer gRPC service (sync.proto) on the sync gRPC server's threads:
// - Export: a peer synchronizer pushes its cluster's table. The first message names the
//   cluster; an unknown cluster is PERMISSION_DENIED, a token that is not that peer's
//   UNAUTHENTICATED. Each message is applied to the SyncState and acknowledged.
// - Subscribe: a sidecar of our own cluster (subscriber token) receives a FULL table, then the
//   DELTAs SyncState queues for it.
#pragma once

#include <map>
#include <string>

#include "controlplane/sync/sync_state.h"
#include "ringside/sync/v1/sync.grpc.pb.h"

namespace ringside::sync {

class SyncService final : public v1::Synchronizer::Service {
 public:
  // peer_tokens: peer cluster -> the token it must present. subscriber_token "" = none needed.
  SyncService(SyncState* state, std::map<std::string, std::string> peer_tokens, std::string subscriber_token);

  grpc::Status Export(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::ExportAck, v1::ExportRequest>* stream) override;
  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::TableUpdate>* writer) override;

 private:
  SyncState* state_;                                // shared tables (outlives the server)
  std::map<std::string, std::string> peer_tokens_;  // peer cluster -> token
  std::string subscriber_token_;                    // token sidecars must send ("" = none)
};

// Whether the call's `authorization` metadata is "Bearer <token>" (constant-time compare).
bool bearer_matches(const grpc::ServerContext& context, const std::string& token);

}  // namespace ringside::sync
