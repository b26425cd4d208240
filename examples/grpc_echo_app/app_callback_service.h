// dapr.proto.runtime.v1.AppCallback/OnInvoke and AppCallbackHealthCheck/HealthCheck: what a
// sidecar started with --app-protocol grpc calls (spec §4.4).
//
// OnInvoke methods:
//   status/<n>  (n in 1..16) -> fails with gRPC code n, message "status <n>" and one detail
//                               EchoDetail{text: "detail for status <n>"}
//   sleep/<ms>               -> waits <ms> (stops early when cancelled), then echoes
//   anything else            -> echoes data (type_url kept) and content_type
// Every answer carries header metadata x-app-header: on-invoke and trailer x-app-trailer: on-invoke.
#pragma once

#include "dapr/proto/runtime/v1/appcallback.grpc.pb.h"
#include "examples/grpc_echo_app/app_stats.h"

namespace ringside::grpc_echo_app {

class AppCallbackService final : public dapr::proto::runtime::v1::AppCallback::Service {
 public:
  explicit AppCallbackService(AppStats* stats) : stats_(stats) {}
  grpc::Status OnInvoke(grpc::ServerContext* context, const dapr::proto::common::v1::InvokeRequest* request,
                        dapr::proto::common::v1::InvokeResponse* response) override;

 private:
  AppStats* stats_;  // shared with the Echo service; outlives the server
};

class HealthCheckService final : public dapr::proto::runtime::v1::AppCallbackHealthCheck::Service {
 public:
  // Always healthy: the app is up when it answers at all.
  grpc::Status HealthCheck(grpc::ServerContext* context, const google::protobuf::Empty* request,
                           dapr::proto::runtime::v1::HealthCheckResponse* response) override;
};

}  // namespace ringside::grpc_echo_app
