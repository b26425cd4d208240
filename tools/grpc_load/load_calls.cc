#include "tools/grpc_load/load_calls.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"
#include "ringside/test/v1/echo.grpc.pb.h"

namespace ringside::grpc_load {
namespace {

namespace testpb = ringside::test::v1;
namespace common = dapr::proto::common::v1;
namespace runtime = dapr::proto::runtime::v1;

// The payload of every request: a repeating alphabet rather than one byte value, so the echo
// check below also catches bytes that were shifted or mixed up on the way.
std::string Payload(uint64_t size) {
  std::string payload(size, '\0');
  for (uint64_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  return payload;
}

const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",        "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",      "UNIMPLEMENTED",  "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "?";
}

absl::Status CallFailed(const char* method, const grpc::Status& status) {
  return absl::UnavailableError(absl::StrCat(method, ": ", CodeName(status.error_code()), " (",
                                             static_cast<int>(status.error_code()), "): ",
                                             status.error_message()));
}

absl::Status WrongAnswer(const char* method, const std::string& what) {
  return absl::DataLossError(absl::StrCat(method, ": wrong answer: ", what));
}

void PrepareContext(grpc::ClientContext* context, const std::string& app_id, SystemTime deadline) {
  context->set_deadline(deadline);
  if (!app_id.empty()) context->AddMetadata("dapr-app-id", app_id);
}

CallFn UnaryCall(const GrpcLoadOptions& o, std::shared_ptr<grpc::Channel> channel) {
  auto stub = std::shared_ptr<testpb::Echo::Stub>(testpb::Echo::NewStub(channel));
  auto request = std::make_shared<testpb::EchoRequest>();
  request->set_payload(Payload(o.body_size));
  return [stub, request, app_id = o.app_id](SystemTime deadline) -> absl::Status {
    grpc::ClientContext context;
    PrepareContext(&context, app_id, deadline);
    testpb::EchoResponse response;
    const grpc::Status status = stub->Unary(&context, *request, &response);
    if (!status.ok()) return CallFailed("Echo/Unary", status);
    if (response.payload() != request->payload()) {
      return WrongAnswer("Echo/Unary", absl::StrCat(response.payload().size(), " payload bytes back of ",
                                                    request->payload().size()));
    }
    return absl::OkStatus();
  };
}

CallFn InvokeServiceCall(const GrpcLoadOptions& o, std::shared_ptr<grpc::Channel> channel) {
  auto stub = std::shared_ptr<runtime::Dapr::Stub>(runtime::Dapr::NewStub(channel));
  auto request = std::make_shared<runtime::InvokeServiceRequest>();
  request->set_id(o.app_id);
  common::InvokeRequest* message = request->mutable_message();
  message->set_method("echo");
  message->mutable_data()->set_value(Payload(o.body_size));
  message->set_content_type("application/octet-stream");
  message->mutable_http_extension()->set_verb(common::HTTPExtension::POST);
  return [stub, request](SystemTime deadline) -> absl::Status {
    grpc::ClientContext context;
    PrepareContext(&context, "", deadline);
    common::InvokeResponse response;
    const grpc::Status status = stub->InvokeService(&context, *request, &response);
    if (!status.ok()) return CallFailed("Dapr/InvokeService", status);
    const std::string& sent = request->message().data().value();
    if (response.data().value() != sent) {
      return WrongAnswer("Dapr/InvokeService",
                         absl::StrCat(response.data().value().size(), " data bytes back of ", sent.size()));
    }
    return absl::OkStatus();
  };
}

CallFn ClientStreamCall(const GrpcLoadOptions& o, std::shared_ptr<grpc::Channel> channel) {
  auto stub = std::shared_ptr<testpb::Echo::Stub>(testpb::Echo::NewStub(channel));
  // Every message but possibly the last is `message_size` bytes; the last carries the rest.
  const uint64_t full_messages = o.total_bytes / o.message_size;
  const uint64_t tail_bytes = o.total_bytes % o.message_size;
  auto full = std::make_shared<testpb::EchoRequest>();
  full->set_payload(Payload(o.message_size));
  auto tail = std::make_shared<testpb::EchoRequest>();
  tail->set_payload(Payload(tail_bytes));
  const int64_t messages = static_cast<int64_t>(full_messages + (tail_bytes > 0 ? 1 : 0));
  return [stub, full, tail, full_messages, tail_bytes, messages, total = o.total_bytes,
          app_id = o.app_id](SystemTime deadline) -> absl::Status {
    grpc::ClientContext context;
    PrepareContext(&context, app_id, deadline);
    testpb::EchoResponse response;
    std::unique_ptr<grpc::ClientWriter<testpb::EchoRequest>> writer = stub->ClientStream(&context, &response);
    // A failed Write means the call is over; Finish below says why.
    bool writing = true;
    for (uint64_t i = 0; writing && i < full_messages; ++i) writing = writer->Write(*full);
    if (writing && tail_bytes > 0) writing = writer->Write(*tail);
    if (writing) writer->WritesDone();
    const grpc::Status status = writer->Finish();
    if (!status.ok()) return CallFailed("Echo/ClientStream", status);
    if (response.payload_bytes() != static_cast<int64_t>(total) || response.messages() != messages) {
      return WrongAnswer("Echo/ClientStream",
                         absl::StrCat("app saw ", response.payload_bytes(), " bytes in ", response.messages(),
                                      " messages; sent ", total, " in ", messages));
    }
    return absl::OkStatus();
  };
}

}  // namespace

CallFn MakeLoadCall(const GrpcLoadOptions& options, std::shared_ptr<grpc::Channel> channel) {
  switch (options.mode) {
    case CallMode::kUnary:
      return UnaryCall(options, std::move(channel));
    case CallMode::kInvokeService:
      return InvokeServiceCall(options, std::move(channel));
    case CallMode::kClientStream:
      return ClientStreamCall(options, std::move(channel));
  }
  return nullptr;
}

}  // namespace ringside::grpc_load
