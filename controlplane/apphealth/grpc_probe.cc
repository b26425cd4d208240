#include "controlplane/apphealth/grpc_probe.h"

#include <grpcpp/grpcpp.h>

#include "dapr/proto/runtime/v1/appcallback.grpc.pb.h"

namespace ringside::apphealth {

struct GrpcProbe::Impl {
  std::shared_ptr<grpc::Channel> channel;                                           // to the app, reused
  std::unique_ptr<dapr::proto::runtime::v1::AppCallbackHealthCheck::Stub> stub;   // HealthCheck
  std::string app_api_token;                                                        // "" = none
};

GrpcProbe::GrpcProbe(const std::string& target, std::string app_api_token) : impl_(std::make_unique<Impl>()) {
  impl_->channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  impl_->stub = dapr::proto::runtime::v1::AppCallbackHealthCheck::NewStub(impl_->channel);
  impl_->app_api_token = std::move(app_api_token);
}

GrpcProbe::~GrpcProbe() = default;

int GrpcProbe::probe(std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  if (!impl_->app_api_token.empty()) ctx.AddMetadata("dapr-api-token", impl_->app_api_token);
  google::protobuf::Empty request;
  dapr::proto::runtime::v1::HealthCheckResponse response;
  grpc::Status s = impl_->stub->HealthCheck(&ctx, request, &response);
  return static_cast<int>(s.error_code());
}

}  // namespace ringside::apphealth
