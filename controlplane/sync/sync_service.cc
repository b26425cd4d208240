#include "controlplane/sync/sync_service.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "controlplane/sync/sync_log.h"

namespace ringside::sync {
namespace {

// How often a Subscribe call with nothing to send checks for cancellation and shutdown.
constexpr std::chrono::milliseconds kSubscriberPoll{250};

}  // namespace

bool bearer_matches(const grpc::ServerContext& context, const std::string& token) {
  const std::string expected = absl::StrCat("Bearer ", token);
  auto range = context.client_metadata().equal_range("authorization");
  for (auto it = range.first; it != range.second; ++it) {
    const grpc::string_ref got = it->second;
    if (got.size() != expected.size()) continue;
    unsigned char diff = 0;  // no early exit: the time taken says nothing about the token
    for (size_t i = 0; i < expected.size(); ++i) diff |= static_cast<unsigned char>(got.data()[i] ^ expected[i]);
    if (diff == 0) return true;
  }
  return false;
}

SyncService::SyncService(SyncState* state, std::map<std::string, std::string> peer_tokens, std::string subscriber_token)
    : state_(state), peer_tokens_(std::move(peer_tokens)), subscriber_token_(std::move(subscriber_token)) {}

grpc::Status SyncService::Export(grpc::ServerContext* context,
                                 grpc::ServerReaderWriter<v1::ExportAck, v1::ExportRequest>* stream) {
  v1::ExportRequest request;
  if (!stream->Read(&request)) return grpc::Status(grpc::StatusCode::CANCELLED, "stream closed before its first message");
  const std::string cluster = request.cluster();
  auto peer = peer_tokens_.find(cluster);
  if (peer == peer_tokens_.end()) {
    log(LogLevel::kWarn, absl::StrCat("refused Export from ", context->peer(), ": cluster \"", cluster,
                                      "\" is not one of our peers"));
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("cluster \"", cluster, "\" is not a peer of cluster \"", state_->own_cluster(),
                                     "\" (peers[] in its sync config)"));
  }
  if (!bearer_matches(*context, peer->second)) {
    log(LogLevel::kWarn, absl::StrCat("refused Export from ", context->peer(), " for cluster \"", cluster,
                                      "\": wrong or missing token"));
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        absl::StrCat("wrong or missing token for peer cluster \"", cluster, "\""));
  }
  const uint64_t id = state_->import_open(cluster, std::chrono::steady_clock::now());
  log(LogLevel::kInfo, absl::StrCat("import from cluster \"", cluster, "\" opened (", context->peer(), ", sync ",
                                    request.sync_id(), ")"));
  grpc::Status result = grpc::Status::OK;
  do {
    if (request.cluster() != cluster) {
      result = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "an Export stream speaks for one cluster only");
      break;
    }
    if (!state_->import_apply(cluster, id, request, std::chrono::steady_clock::now())) {
      result = grpc::Status(grpc::StatusCode::ABORTED, "replaced by a newer Export stream from the same cluster");
      break;
    }
    v1::ExportAck ack;
    ack.set_version(request.version());
    ack.set_cluster(state_->own_cluster());
    if (!stream->Write(ack)) break;
  } while (stream->Read(&request));
  state_->import_close(cluster, id, std::chrono::steady_clock::now());
  log(LogLevel::kInfo, absl::StrCat("import from cluster \"", cluster, "\" closed; its instances stay for the export TTL"));
  return result;
}

grpc::Status SyncService::Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                                    grpc::ServerWriter<v1::TableUpdate>* writer) {
  if (!subscriber_token_.empty() && !bearer_matches(*context, subscriber_token_)) {
    log(LogLevel::kWarn, absl::StrCat("refused Subscribe from ", context->peer(), ": wrong or missing token"));
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong or missing subscriber token");
  }
  if (request->cluster() != state_->own_cluster()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("this synchronizer serves cluster \"", state_->own_cluster(),
                                     "\", not \"", request->cluster(), "\""));
  }
  std::shared_ptr<Subscriber> me = state_->subscribe(request->app_id());
  if (!me) return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "maxSubscribers reached; try another synchronizer");
  log(LogLevel::kDebug, absl::StrCat("subscriber ", request->app_id(), " (", context->peer(), ") joined"));
  grpc::Status result = grpc::Status::OK;
  while (!context->IsCancelled()) {
    std::optional<v1::TableUpdate> update =
        state_->next_update(me.get(), std::chrono::steady_clock::now() + kSubscriberPoll);
    if (!update) {
      if (state_->stopping()) {
        result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "synchronizer shutting down");
        break;
      }
      continue;
    }
    if (!writer->Write(*update)) break;
  }
  state_->unsubscribe(me);
  log(LogLevel::kDebug, absl::StrCat("subscriber ", request->app_id(), " left"));
  return result;
}

}  // namespace ringside::sync
