#include "examples/grpc_echo_app/app_stats.h"

#include <chrono>

namespace ringside::grpc_echo_app {

void CopyMetadata(const grpc::ServerContext& context,
                  google::protobuf::RepeatedPtrField<ringside::test::v1::MetadataEntry>* out) {
  for (const auto& [key, value] : context.client_metadata()) {
    auto* entry = out->Add();
    entry->set_key(std::string(key.data(), key.size()));
    entry->set_value(std::string(value.data(), value.size()));
  }
}

void AppStats::RecordCall(const grpc::ServerContext& context, const char* method) {
  // gRPC reports "no deadline" as a time point far in the future.
  const auto remaining = context.deadline() - std::chrono::system_clock::now();
  const int64_t remaining_ms = std::chrono::duration_cast<std::chrono::milliseconds>(remaining).count();
  std::lock_guard<std::mutex> lock(mu_);
  stats_.set_calls(stats_.calls() + 1);
  stats_.set_last_method(method);
  stats_.clear_last_metadata();
  CopyMetadata(context, stats_.mutable_last_metadata());
  stats_.set_last_deadline_ms(remaining_ms > int64_t{365} * 24 * 3600 * 1000 ? -1 : remaining_ms);
}

void AppStats::RecordInvoke(const dapr::proto::common::v1::InvokeRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.set_last_invoke_method(request.method());
  stats_.set_last_invoke_content_type(request.content_type());
  stats_.set_last_invoke_verb(
      request.has_http_extension()
          ? dapr::proto::common::v1::HTTPExtension::Verb_Name(request.http_extension().verb())
          : "");
  stats_.set_last_invoke_querystring(request.has_http_extension() ? request.http_extension().querystring() : "");
}

void AppStats::RecordCancel() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.set_cancelled_calls(stats_.cancelled_calls() + 1);
}

ringside::test::v1::StatsResponse AppStats::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace ringside::grpc_echo_app
