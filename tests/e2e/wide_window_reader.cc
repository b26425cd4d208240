#include "tests/e2e/wide_window_reader.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/raw_h2_client.h"

namespace ringside::e2e {

absl::StatusOr<WideWindowResult> CallWithWideWindow(
    int port, std::string_view path, const std::vector<std::pair<std::string, std::string>>& metadata,
    std::string_view request, std::chrono::milliseconds stall, std::chrono::milliseconds deadline) {
  auto client = RawH2Client::Connect(static_cast<uint16_t>(port), 0x7fffffff);  // the largest window
  if (!client.ok()) return client.status();
  RawH2Client& c = **client;
  const int32_t id = c.OpenGrpc(path, metadata, GrpcFrame(request), /*end_stream=*/true);
  if (id < 0) return absl::InternalError("cannot open a stream");
  const auto end = std::chrono::steady_clock::now() + deadline;
  const auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
  };
  // Until the first whole message: the server has started streaming into our wide window.
  c.Pump(left(), [&] { return c.stream(id).closed || !GrpcMessages(c.stream(id).body).empty(); });
  if (c.alive() && !c.stream(id).closed) std::this_thread::sleep_for(stall);  // nobody reads
  c.Pump(left(), [&] { return c.stream(id).closed; });
  const RawH2Client::Stream& s = c.stream(id);
  if (!s.closed) {
    return absl::DeadlineExceededError(absl::StrCat("the stream did not end (", s.body.size(), " bytes received",
                                                    c.alive() ? "" : ", connection failed", ")"));
  }
  return WideWindowResult{GrpcMessages(s.body), s.grpc_status};
}

}  // namespace ringside::e2e
