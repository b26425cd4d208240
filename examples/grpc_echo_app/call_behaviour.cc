#include "examples/grpc_echo_app/call_behaviour.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace ringside::grpc_echo_app {

bool SleepUnlessCancelled(grpc::ServerContext* context, int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::clamp(ms, 0, 60'000));
  while (std::chrono::steady_clock::now() < until) {
    if (context->IsCancelled()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return !context->IsCancelled();
}

void AddRequestedMetadata(grpc::ServerContext* context, const ringside::test::v1::EchoRequest& request) {
  for (const auto& [key, value] : request.response_headers()) context->AddInitialMetadata(key, value);
  for (const auto& [key, value] : request.response_trailers()) context->AddTrailingMetadata(key, value);
}

grpc::Status StatusWithDetails(int code, const std::string& message,
                               const google::protobuf::RepeatedPtrField<google::protobuf::Any>& details) {
  ringside::test::v1::RpcStatus rpc_status;
  rpc_status.set_code(code);
  rpc_status.set_message(message);
  *rpc_status.mutable_details() = details;
  return grpc::Status(static_cast<grpc::StatusCode>(code), message, rpc_status.SerializeAsString());
}

grpc::Status RequestedStatus(const ringside::test::v1::EchoRequest& request) {
  if (!request.has_status() || request.status().code() == 0) return grpc::Status::OK;
  const auto& s = request.status();
  if (s.details_size() == 0) return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
  return StatusWithDetails(s.code(), s.message(), s.details());
}

grpc::Status EndCall(grpc::ServerContext* context, AppStats* stats, grpc::Status status) {
  if (context->IsCancelled()) {
    stats->RecordCancel();
    return grpc::Status::CANCELLED;
  }
  return status;
}

}  // namespace ringside::grpc_echo_app
