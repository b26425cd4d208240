// invoke_service_client: a tiny gRPC C++ client for checking a running sidecar's gRPC API by
// hand (the automated end-to-end tests live in tests/e2e).
//
//   invoke_service_client <addr> invoke <app-id> <method> [body] [verb] [query] [key=value...]
//   invoke_service_client <addr> metadata
//
// INVOKE_REPEAT=N in the environment repeats the call N times first (quietly, on one channel),
// e.g. to watch the sidecar's allocation counter.
// Prints the status, header and trailer metadata and the response.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dapr/proto/runtime/v1/dapr.grpc.pb.h"

namespace {

namespace runtime = dapr::proto::runtime::v1;
namespace common = dapr::proto::common::v1;

void print_metadata(const char* what, const std::multimap<grpc::string_ref, grpc::string_ref>& md) {
  for (const auto& [k, v] : md) {
    std::printf("%s %.*s: %.*s\n", what, static_cast<int>(k.size()), k.data(),
                static_cast<int>(v.size()), v.data());
  }
}

common::HTTPExtension::Verb verb_of(const std::string& name) {
  common::HTTPExtension::Verb v;
  return common::HTTPExtension::Verb_Parse(name, &v) ? v : common::HTTPExtension::POST;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <addr> invoke <app-id> <method> [body] [verb] [query] [k=v...]\n"
                         "       %s <addr> metadata\n", argv[0], argv[0]);
    return 2;
  }
  auto stub = runtime::Dapr::NewStub(grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  const char* repeat_env = std::getenv("INVOKE_REPEAT");
  int repeat = repeat_env ? std::atoi(repeat_env) : 0;
  if (std::strcmp(argv[2], "invoke") == 0 && argc >= 5) {
    runtime::InvokeServiceRequest req;
    req.set_id(argv[3]);
    req.mutable_message()->set_method(argv[4]);
    req.mutable_message()->mutable_http_extension()->set_verb(common::HTTPExtension::POST);
    for (int i = 0; i < repeat && i < 1'000'000; ++i) {
      grpc::ClientContext c;
      c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      common::InvokeResponse resp;
      grpc::Status s = stub->InvokeService(&c, req, &resp);
      if (!s.ok() && i == 0) std::fprintf(stderr, "repeat: status %d\n", static_cast<int>(s.error_code()));
    }
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status st;
  std::string printed;
  if (std::strcmp(argv[2], "metadata") == 0) {
    runtime::GetMetadataResponse resp;
    st = stub->GetMetadata(&ctx, runtime::GetMetadataRequest(), &resp);
    printed = resp.DebugString();
  } else if (std::strcmp(argv[2], "invoke") == 0 && argc >= 5) {
    runtime::InvokeServiceRequest req;
    req.set_id(argv[3]);
    req.mutable_message()->set_method(argv[4]);
    if (argc > 5) req.mutable_message()->mutable_data()->set_value(argv[5]);
    req.mutable_message()->set_content_type("text/plain");
    req.mutable_message()->mutable_http_extension()->set_verb(verb_of(argc > 6 ? argv[6] : "POST"));
    if (argc > 7) req.mutable_message()->mutable_http_extension()->set_querystring(argv[7]);
    for (int i = 8; i < argc; ++i) {
      std::string kv = argv[i];
      size_t eq = kv.find('=');
      if (eq != std::string::npos) ctx.AddMetadata(kv.substr(0, eq), kv.substr(eq + 1));
    }
    common::InvokeResponse resp;
    st = stub->InvokeService(&ctx, req, &resp);
    printed = resp.DebugString();
  } else {
    std::fprintf(stderr, "unknown command\n");
    return 2;
  }
  std::printf("status %d: %s\n", static_cast<int>(st.error_code()), st.error_message().c_str());
  if (!st.error_details().empty()) std::printf("details %zu bytes\n", st.error_details().size());
  print_metadata("header", ctx.GetServerInitialMetadata());
  print_metadata("trailer", ctx.GetServerTrailingMetadata());
  std::printf("response:\n%s", printed.c_str());
  return st.ok() ? 0 : 1;
}
