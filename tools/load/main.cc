// ringside-load --url http://127.0.0.1:3500/v1.0/invoke/b/method/echo -n 5000 -c 16
//               [--body-size 1024] [--method POST] [--timeout 60] [--header "Name: value"]
// Keep-alive HTTP/1.1 load generator: one thread per connection, a shared request budget,
// bounded in count and in time. Prints requests, errors, throughput and latency percentiles;
// exits 1 if any request failed (non-2xx or transport error) or the time bound was hit.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "tools/blocking_http/http_connection.h"
#include "tools/load/latency_summary.h"
#include "tools/blocking_http/http_head.h"
#include "tools/load/load_options.h"

namespace {

using ringside::blocking_http::BlockingHttpConnection;
using ringside::blocking_http::Clock;
using ringside::blocking_http::ResponseTo;

// What one connection thread measured.
struct WorkerResult {
  std::vector<uint64_t> latencies_us;  // one per answered request
  uint64_t errors = 0;                 // non-2xx answers and transport failures
  std::string first_error;             // text of the first failure, for the summary
};

void RunWorker(const ringside::load::LoadOptions& o, const std::string& request,
               std::atomic<uint64_t>* budget, Clock::time_point deadline, WorkerResult* out) {
  BlockingHttpConnection conn;
  const ResponseTo to = o.method == "HEAD" ? ResponseTo::kHead : ResponseTo::kOther;
  auto fail = [&](std::string text) {
    ++out->errors;
    if (out->first_error.empty()) out->first_error = std::move(text);
    conn.Close();
  };
  while (Clock::now() < deadline) {
    // Claim one request of the shared budget.
    uint64_t left = budget->load(std::memory_order_relaxed);
    do {
      if (left == 0) return;
    } while (!budget->compare_exchange_weak(left, left - 1, std::memory_order_relaxed));
    const Clock::time_point start = Clock::now();
    if (!conn.connected()) {
      if (absl::Status s = conn.Connect(o.port, deadline); !s.ok()) {
        fail(std::string(s.message()));
        continue;
      }
    }
    if (absl::Status s = conn.SendAll(request, deadline); !s.ok()) {
      fail(std::string(s.message()));
      continue;
    }
    auto response = conn.ReadResponse(deadline, to);
    if (!response.ok()) {
      fail(std::string(response.status().message()));
      continue;
    }
    out->latencies_us.push_back(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()));
    const int status = response->status();
    if (status < 200 || status > 299) {
      ++out->errors;
      if (out->first_error.empty()) {
        out->first_error = absl::StrFormat("HTTP %d: %s", status, response->body.substr(0, 200));
      }
    }
    if (ringside::blocking_http::HasToken(response->header("Connection"), "close")) conn.Close();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  auto options = ringside::load::ParseLoadOptions(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "ringside-load: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  const ringside::load::LoadOptions& o = *options;
  ringside::blocking_http::RequestSpec spec;
  spec.method = o.method;
  spec.target = o.target;
  spec.headers = o.headers;
  if (o.body_size > 0) spec.headers.emplace_back("Content-Type", "application/octet-stream");
  spec.body.assign(o.body_size, 'x');
  spec.content_length = o.body_size > 0 || o.method == "POST" || o.method == "PUT" || o.method == "PATCH";
  const std::string request = ringside::blocking_http::BuildRequest(spec);

  std::atomic<uint64_t> budget{o.requests};
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + o.timeout;
  std::vector<WorkerResult> results(o.connections);
  std::vector<std::thread> threads;
  threads.reserve(o.connections);
  for (uint32_t i = 0; i < o.connections; ++i) {
    threads.emplace_back(RunWorker, std::cref(o), std::cref(request), &budget, deadline, &results[i]);
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<uint64_t> all;
  uint64_t errors = 0;
  std::string first_error;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    errors += r.errors;
    if (first_error.empty()) first_error = r.first_error;
  }
  const uint64_t not_sent = budget.load();
  const auto summary = ringside::load::Summarize(all);
  const uint64_t answered = summary.count;
  std::printf("target       http://127.0.0.1:%u%s (%s, body %zu B, %u connections)\n", o.port,
              o.target.c_str(), o.method.c_str(), o.body_size, o.connections);
  std::printf("requests     %lu answered, %lu errors, %lu not sent (time bound)\n",
              static_cast<unsigned long>(answered), static_cast<unsigned long>(errors),
              static_cast<unsigned long>(not_sent));
  std::printf("duration     %.3f s\n", seconds);
  std::printf("throughput   %.0f req/s\n", seconds > 0 ? static_cast<double>(answered) / seconds : 0.0);
  std::printf("latency us   p50 %lu  p90 %lu  p99 %lu  max %lu\n",
              static_cast<unsigned long>(summary.p50_us), static_cast<unsigned long>(summary.p90_us),
              static_cast<unsigned long>(summary.p99_us), static_cast<unsigned long>(summary.max_us));
  if (!first_error.empty()) std::printf("first error  %s\n", first_error.c_str());
  return (errors == 0 && not_sent == 0) ? 0 : 1;
}
