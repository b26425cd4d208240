#include "examples/grpc_echo_app/app_callback_service.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "examples/grpc_echo_app/call_behaviour.h"

namespace ringside::grpc_echo_app {

grpc::Status AppCallbackService::OnInvoke(grpc::ServerContext* context,
                                          const dapr::proto::common::v1::InvokeRequest* request,
                                          dapr::proto::common::v1::InvokeResponse* response) {
  stats_->RecordCall(*context, "/dapr.proto.runtime.v1.AppCallback/OnInvoke");
  stats_->RecordInvoke(*request);
  context->AddInitialMetadata("x-app-header", "on-invoke");
  context->AddTrailingMetadata("x-app-trailer", "on-invoke");
  const absl::string_view method(request->method().data(), request->method().size());
  int number = 0;
  if (absl::StartsWith(method, "status/") && absl::SimpleAtoi(method.substr(7), &number) && number >= 1 &&
      number <= 16) {
    ringside::test::v1::EchoDetail detail;
    detail.set_text(absl::StrCat("detail for status ", number));
    google::protobuf::RepeatedPtrField<google::protobuf::Any> details;
    details.Add()->PackFrom(detail);
    return EndCall(context, stats_, StatusWithDetails(number, absl::StrCat("status ", number), details));
  }
  if (absl::StartsWith(method, "sleep/") && absl::SimpleAtoi(method.substr(6), &number) &&
      !SleepUnlessCancelled(context, number)) {
    return EndCall(context, stats_, grpc::Status::OK);
  }
  *response->mutable_data() = request->data();
  response->set_content_type(request->content_type());
  return EndCall(context, stats_, grpc::Status::OK);
}

grpc::Status HealthCheckService::HealthCheck(grpc::ServerContext*, const google::protobuf::Empty*,
                                             dapr::proto::runtime::v1::HealthCheckResponse*) {
  return grpc::Status::OK;
}

}  // namespace ringside::grpc_echo_app
