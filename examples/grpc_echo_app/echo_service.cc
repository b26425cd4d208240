#include "examples/grpc_echo_app/echo_service.h"

#include "examples/grpc_echo_app/call_behaviour.h"

namespace ringside::grpc_echo_app {
namespace {

using ringside::test::v1::EchoRequest;
using ringside::test::v1::EchoResponse;

// The answer to one message: text, payload and seq back, plus the metadata when asked.
EchoResponse Reply(const grpc::ServerContext& context, const EchoRequest& request, bool echo_metadata) {
  EchoResponse response;
  response.set_text(request.text());
  response.set_payload(request.payload());
  response.set_seq(request.seq());
  if (echo_metadata) CopyMetadata(context, response.mutable_metadata());
  return response;
}

}  // namespace

grpc::Status EchoService::Unary(grpc::ServerContext* context, const EchoRequest* request,
                                EchoResponse* response) {
  stats_->RecordCall(*context, "/ringside.test.v1.Echo/Unary");
  AddRequestedMetadata(context, *request);
  if (!SleepUnlessCancelled(context, request->delay_ms())) return EndCall(context, stats_, grpc::Status::OK);
  *response = Reply(*context, *request, request->echo_metadata());
  return EndCall(context, stats_, RequestedStatus(*request));
}

grpc::Status EchoService::ClientStream(grpc::ServerContext* context, grpc::ServerReader<EchoRequest>* reader,
                                       EchoResponse* response) {
  stats_->RecordCall(*context, "/ringside.test.v1.Echo/ClientStream");
  EchoRequest first;
  EchoRequest next;
  int64_t messages = 0;
  // Reads until the client half-closes (or the call dies: Read fails then too).
  while (reader->Read(messages == 0 ? &first : &next)) {
    const EchoRequest& got = messages == 0 ? first : next;
    if (messages == 0) AddRequestedMetadata(context, first);
    response->mutable_text()->append(got.text());
    response->set_payload_bytes(response->payload_bytes() + static_cast<int64_t>(got.payload().size()));
    ++messages;
  }
  response->set_messages(messages);
  if (first.echo_metadata()) CopyMetadata(*context, response->mutable_metadata());
  if (!SleepUnlessCancelled(context, first.delay_ms())) return EndCall(context, stats_, grpc::Status::OK);
  return EndCall(context, stats_, RequestedStatus(first));
}

grpc::Status EchoService::ServerStream(grpc::ServerContext* context, const EchoRequest* request,
                                       grpc::ServerWriter<EchoResponse>* writer) {
  stats_->RecordCall(*context, "/ringside.test.v1.Echo/ServerStream");
  AddRequestedMetadata(context, *request);
  for (int i = 0; i < request->count(); ++i) {
    if (!SleepUnlessCancelled(context, request->delay_ms())) break;
    EchoResponse response = Reply(*context, *request, request->echo_metadata() && i == 0);
    response.set_seq(i);
    if (!writer->Write(response)) break;  // the client is gone
  }
  return EndCall(context, stats_, RequestedStatus(*request));
}

grpc::Status EchoService::Bidi(grpc::ServerContext* context,
                               grpc::ServerReaderWriter<EchoResponse, EchoRequest>* stream) {
  stats_->RecordCall(*context, "/ringside.test.v1.Echo/Bidi");
  EchoRequest first;
  EchoRequest request;
  int64_t messages = 0;
  // One answer per message, in order, until the client half-closes or the call dies.
  while (stream->Read(&request)) {
    if (messages == 0) {
      first = request;
      AddRequestedMetadata(context, first);
    }
    if (!SleepUnlessCancelled(context, request.delay_ms())) break;
    if (!stream->Write(Reply(*context, request, first.echo_metadata() && messages == 0))) break;
    ++messages;
  }
  return EndCall(context, stats_, RequestedStatus(first));
}

grpc::Status EchoService::Stats(grpc::ServerContext*, const ringside::test::v1::StatsRequest*,
                                ringside::test::v1::StatsResponse* response) {
  *response = stats_->Snapshot();
  return grpc::Status::OK;
}

}  // namespace ringside::grpc_echo_app
