#include "tools/grpc_load/call_driver.h"

#include <atomic>
#include <thread>

namespace ringside::grpc_load {
namespace {

using Steady = std::chrono::steady_clock;  // latencies: immune to wall-clock steps

// What one thread measured.
struct ThreadResult {
  std::vector<uint64_t> latencies_us;  // successful calls
  uint64_t errors = 0;                 // failed calls
  std::string first_error;             // first failure seen by this thread
};

// Takes one call off the shared budget; false when it is spent.
bool ClaimCall(std::atomic<uint64_t>* budget) {
  uint64_t left = budget->load(std::memory_order_relaxed);
  do {
    if (left == 0) return false;
  } while (!budget->compare_exchange_weak(left, left - 1, std::memory_order_relaxed));
  return true;
}

void RunThread(const CallFn& call, std::atomic<uint64_t>* budget, SystemTime deadline, ThreadResult* out) {
  while (std::chrono::system_clock::now() < deadline && ClaimCall(budget)) {
    const Steady::time_point start = Steady::now();
    const absl::Status status = call(deadline);
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - start);
    if (status.ok()) {
      out->latencies_us.push_back(static_cast<uint64_t>(elapsed.count()));
    } else {
      ++out->errors;
      if (out->first_error.empty()) out->first_error = std::string(status.message());
    }
  }
}

}  // namespace

CallRunResult RunCalls(const std::vector<CallFn>& callers, uint64_t requests, SystemTime deadline) {
  std::atomic<uint64_t> budget{requests};
  std::vector<ThreadResult> results(callers.size());
  std::vector<std::thread> threads;
  threads.reserve(callers.size());
  const Steady::time_point start = Steady::now();
  for (size_t i = 0; i < callers.size(); ++i) {
    threads.emplace_back(RunThread, std::cref(callers[i]), &budget, deadline, &results[i]);
  }
  for (auto& t : threads) t.join();

  CallRunResult run;
  run.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  for (ThreadResult& r : results) {
    run.latencies_us.insert(run.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
    run.errors += r.errors;
    if (run.first_error.empty()) run.first_error = std::move(r.first_error);
  }
  run.not_sent = budget.load();
  return run;
}

}  // namespace ringside::grpc_load
