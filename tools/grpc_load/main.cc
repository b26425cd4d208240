// ringside-grpc-load --target 127.0.0.1:50001 [--mode unary|invoke-service|client-stream]
//                    [--app-id b] [-n 1000] [-c 1] [--body-size 1024] [--timeout 60]
//                    [--total-bytes 64Mi] [--message-size 64Ki]
// gRPC load generator, the counterpart of ringside-load: one thread and one channel (one
// connection) per -c, a shared budget of -n calls, bounded in count and in time. Every answer
// is checked. Prints the same summary lines as ringside-load (latency over successful calls),
// and for client-stream the median throughput of one call in MiB/s. Exits 1 if any call failed,
// a channel could not connect or the time bound was hit; 2 for a bad command line.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/grpc_load/call_driver.h"
#include "tools/grpc_load/grpc_load_options.h"
#include "tools/grpc_load/load_calls.h"
#include "tools/grpc_load/load_channel.h"
#include "tools/load/latency_summary.h"

namespace {

using ringside::grpc_load::CallMode;

constexpr const char* kUsage = R"(usage: ringside-grpc-load --target 127.0.0.1:PORT [flags]
  --mode unary|invoke-service|client-stream   call to make (default unary)
  --app-id ID        unary, client-stream: dapr-app-id metadata (proxying through a sidecar);
                     invoke-service: the InvokeService id (required)
  -n N               calls over all channels (default 1000; client-stream 5)
  -c C               channels, each its own connection and thread (default 1)
  --body-size B      payload bytes per unary/invoke-service request (default 1024)
  --total-bytes T    client-stream: payload bytes per call (default 64Mi)
  --message-size M   client-stream: payload bytes per message (default 64Ki)
  --timeout S        bound on the whole run in seconds (default 60)
Sizes take plain numbers or Ki/Mi/Gi suffixes. Exit 0 if every call succeeded, 1 if not,
2 for a bad command line.
)";
using ringside::grpc_load::GrpcLoadOptions;

// What each call sends, for the first summary line.
std::string Describe(const GrpcLoadOptions& o) {
  std::string what = ringside::grpc_load::CallModeName(o.mode);
  if (o.mode == CallMode::kClientStream) {
    absl::StrAppend(&what, ", ", o.total_bytes, " B per call in ", o.message_size, " B messages");
  } else {
    absl::StrAppend(&what, ", body ", o.body_size, " B");
  }
  absl::StrAppend(&what, ", ", o.channels, " channels");
  if (!o.app_id.empty()) {
    absl::StrAppend(&what, o.mode == CallMode::kInvokeService ? ", id " : ", dapr-app-id ", o.app_id);
  }
  return what;
}

// Median (nearest rank, as the latency percentiles) of one call's MiB/s.
double MedianMibPerSecond(const std::vector<uint64_t>& latencies_us, uint64_t bytes_per_call) {
  std::vector<double> rates;
  for (uint64_t us : latencies_us) {
    const double seconds = static_cast<double>(std::max<uint64_t>(us, 1)) / 1e6;
    rates.push_back(static_cast<double>(bytes_per_call) / (1 << 20) / seconds);
  }
  if (rates.empty()) return 0;
  std::sort(rates.begin(), rates.end());
  const auto rank = static_cast<size_t>(std::ceil(0.5 * static_cast<double>(rates.size())));
  return rates[std::clamp<size_t>(rank, 1, rates.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  auto options = ringside::grpc_load::ParseGrpcLoadOptions(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "ringside-grpc-load: %s (--help lists the flags)\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  const GrpcLoadOptions& o = *options;
  const ringside::grpc_load::SystemTime deadline = std::chrono::system_clock::now() + o.timeout;

  std::vector<ringside::grpc_load::CallFn> callers;
  for (uint32_t i = 0; i < o.channels; ++i) {
    auto channel = ringside::grpc_load::NewLoadChannel(o.target, static_cast<int>(i));
    if (absl::Status s = ringside::grpc_load::ConnectChannel(*channel, deadline); !s.ok()) {
      std::fprintf(stderr, "ringside-grpc-load: %s: channel %u: %s\n", o.target.c_str(), i,
                   std::string(s.message()).c_str());
      return 1;
    }
    callers.push_back(ringside::grpc_load::MakeLoadCall(o, std::move(channel)));
  }

  ringside::grpc_load::CallRunResult run = ringside::grpc_load::RunCalls(callers, o.requests, deadline);
  const double mib_per_second = MedianMibPerSecond(run.latencies_us, o.total_bytes);
  const auto summary = ringside::load::Summarize(run.latencies_us);
  const uint64_t answered = summary.count;
  std::printf("target       grpc %s (%s)\n", o.target.c_str(), Describe(o).c_str());
  std::printf("requests     %lu answered, %lu errors, %lu not sent (time bound)\n",
              static_cast<unsigned long>(answered), static_cast<unsigned long>(run.errors),
              static_cast<unsigned long>(run.not_sent));
  std::printf("duration     %.3f s\n", run.seconds);
  std::printf("throughput   %.0f req/s\n", run.seconds > 0 ? static_cast<double>(answered) / run.seconds : 0.0);
  std::printf("latency us   p50 %lu  p90 %lu  p99 %lu  max %lu\n",
              static_cast<unsigned long>(summary.p50_us), static_cast<unsigned long>(summary.p90_us),
              static_cast<unsigned long>(summary.p99_us), static_cast<unsigned long>(summary.max_us));
  if (o.mode == CallMode::kClientStream) {
    std::printf("stream MiB/s %.1f (median of %lu calls)\n", mib_per_second, static_cast<unsigned long>(answered));
  }
  if (!run.first_error.empty()) std::printf("first error  %s\n", run.first_error.c_str());
  return (run.errors == 0 && run.not_sent == 0) ? 0 : 1;
}
