// ringside-grpc-echo-app --port P: the gRPC app of the end-to-end tests and demos, on 127.0.0.1.
// Serves ringside.test.v1.Echo (all four stream kinds, Stats) and the Dapr app callbacks
// (AppCallback/OnInvoke, AppCallbackHealthCheck/HealthCheck). gRPC C++ with the sync API and
// its thread pool on purpose: this is the *app* behind a sidecar, kept simple so that what it
// reports about a call can be trusted.
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "examples/grpc_echo_app/app_callback_service.h"
#include "examples/grpc_echo_app/app_stats.h"
#include "examples/grpc_echo_app/echo_service.h"

namespace {

// Messages up to 64 MiB both ways: the tests send 16 MiB through sidecars allowing 32 MiB.
constexpr int kMaxMessageBytes = 64 * 1024 * 1024;

}  // namespace

int main(int argc, char** argv) {
  uint32_t port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--port" || arg == "-port") && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &port) &&
        port > 0 && port < 65536) {
      ++i;
    } else {
      std::fprintf(stderr, "usage: ringside-grpc-echo-app --port P   (bad argument: %s)\n", argv[i]);
      return 2;
    }
  }
  if (port == 0) {
    std::fprintf(stderr, "usage: ringside-grpc-echo-app --port P\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  // SIGTERM/SIGINT end the app at once: nothing to flush.
  std::signal(SIGTERM, [](int) { _exit(0); });
  std::signal(SIGINT, [](int) { _exit(0); });

  ringside::grpc_echo_app::AppStats stats;
  ringside::grpc_echo_app::EchoService echo(&stats);
  ringside::grpc_echo_app::AppCallbackService app_callback(&stats);
  ringside::grpc_echo_app::HealthCheckService health;
  const std::string address = absl::StrCat("127.0.0.1:", port);
  int bound_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // Without SO_REUSEPORT a second app on the same port fails instead of sharing it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&echo);
  builder.RegisterService(&app_callback);
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound_port == 0) {
    std::fprintf(stderr, "ringside-grpc-echo-app: cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::fprintf(stderr, "ringside-grpc-echo-app: listening on %s\n", address.c_str());
  server->Wait();
  return 0;
}
