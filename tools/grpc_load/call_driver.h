// Spreads a budget of calls over threads (one per channel) and times each call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ringside::grpc_load {

using SystemTime = std::chrono::system_clock::time_point;  // gRPC deadlines are system_clock

// Makes one call bounded by `deadline`; OK only if the call succeeded and the answer was right.
using CallFn = std::function<absl::Status(SystemTime deadline)>;

// What a run measured, all threads together.
struct CallRunResult {
  std::vector<uint64_t> latencies_us;  // one per successful call, start to final status
  uint64_t errors = 0;                 // failed calls (status not OK or a wrong answer)
  uint64_t not_sent = 0;               // calls of the budget never started (time bound)
  std::string first_error;             // text of the first failure, for the summary
  double seconds = 0;                  // wall time from the first call to the last answer
};

// Runs one thread per entry of `callers`; each claims calls from a shared budget of `requests`
// and makes them one after another until the budget is spent or `deadline` passes.
CallRunResult RunCalls(const std::vector<CallFn>& callers, uint64_t requests, SystemTime deadline);

}  // namespace ringside::grpc_load
