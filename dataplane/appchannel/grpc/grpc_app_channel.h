#pragma once
// GrpcAppChannel: delivers invocations to our app as gRPC
// /dapr.proto.runtime.v1.AppCallback/OnInvoke calls (--app-protocol grpc; spec §4.4, §5.4, §5.5).
//
// Per shard: one pinned h2c connection to --app-channel-address:--app-port, dialled on the
// first call and multiplexing every call as a stream (a upstream::PeerPool keyed by the app's
// address: a GOAWAY'd or broken connection is replaced on the next call, and failed dials back
// off, so a dead app costs a fast local error). The request is re-encoded as the InvokeRequest
// of InternalInvokeRequest.message; metadata follows §5.4. The app's answer becomes an encoded
// InternalInvokeResponse (§5.5 gRPC row): its status (with the details of
// grpc-status-details-bin), header and trailer metadata, and its InvokeResponse. Only a broken
// transport is an app-channel error (Internal "error invoking app channel: ..."); every gRPC
// status the app (or its gRPC stack) answers is the app's result.
#include <cstdint>

#include "dataplane/grpc/header_store.h"
#include "dataplane/grpc/pod_vector.h"
#include "dataplane/appchannel/app_channel.h"
#include "dataplane/mapping/metadata_builder.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::invoke {

// Scratch for encode_grpc_app_response: one per shard (the two builders are ~40 KiB each).
struct GrpcAppResponseScratch {
  explicit GrpcAppResponseScratch(mem::ShardPool* pool)
      : details(pool), detail_list(pool), response(pool) {}
  MetadataBuilder headers;                        // response headers being mapped (§5.5)
  MetadataBuilder trailers;                       // response trailers being mapped
  mem::Buffer details;                            // decoded grpc-status-details-bin
  grpc::PodVector<codec::AnyFields> detail_list;  // its details, viewing `details`
  mem::Buffer response;                           // the encoded InternalInvokeResponse
};

// §5.5 gRPC row: the InternalInvokeResponse for an OnInvoke answer (not a transport error)
// into s->response: status code and message, details from grpc-status-details-bin (which is
// not kept as a trailer, as grpc-go consumes it), header and trailer metadata ("-bin" values
// as padded base64), and the app's InvokeResponse when the status is OK (an unparsable one
// turns the status into INTERNAL, as in grpc-go). False: out of memory.
bool encode_grpc_app_response(const grpc::UnaryResult& r, GrpcAppResponseScratch* s);

class GrpcAppChannel final : public AppChannel {
 public:
  explicit GrpcAppChannel(ShardServices* svc);
  ~GrpcAppChannel() override;

  AppCall* invoke(const codec::InternalInvokeRequestView& request, AppCallCompletion* done) override;
  void cancel(AppCall* call) override;
  void shutdown() override;
  // The pinned connection to the app (dialled if needed), for proxied calls; nullptr while
  // the app's address backs off after a failed dial.
  upstream::PeerConnection* connection();

  struct Call;  // one OnInvoke in flight

 private:
  friend struct Call;
  void complete(Call* call, const grpc::UnaryResult& r);
  void fail(AppCallCompletion* done, std::string_view why);

  ShardServices* svc_;
  upstream::PeerPool conns_;              // the pinned connection to the app (by its address)
  grpc::HeaderStore metadata_;        // outgoing metadata of the call being started
  GrpcAppResponseScratch scratch_;    // answers being mapped (§5.5)
  bool shutting_down_ = false;        // refuse new calls
};

}  // namespace ringside::invoke
