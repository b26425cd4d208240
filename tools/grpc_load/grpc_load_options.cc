#include "tools/grpc_load/grpc_load_options.h"

#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controlplane/config/value_parsers.h"

namespace ringside::grpc_load {
namespace {

// protobuf refuses messages of 2 GiB and more; one payload must stay well below.
constexpr uint64_t kMaxPayloadBytes = 1ull << 30;
// Without -n a client-stream run sends 5 calls (5 x 64 MiB), not 1000.
constexpr uint64_t kDefaultStreamCalls = 5;

// "127.0.0.1:PORT" or "localhost:PORT": the tool measures sidecars on this host only.
bool ParseTarget(absl::string_view target, uint16_t* port) {
  const size_t colon = target.rfind(':');
  if (colon == absl::string_view::npos) return false;
  const absl::string_view host = target.substr(0, colon);
  if (host != "127.0.0.1" && host != "localhost") return false;
  uint32_t p = 0;
  if (!absl::SimpleAtoi(target.substr(colon + 1), &p) || p == 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return true;
}

bool ParseMode(absl::string_view text, CallMode* mode) {
  for (CallMode m : {CallMode::kUnary, CallMode::kInvokeService, CallMode::kClientStream}) {
    if (text == CallModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

// A byte count such as "1024", "64Ki" or "64Mi", at most `max`.
bool ParseBytes(absl::string_view text, uint64_t min, uint64_t max, uint64_t* out) {
  const auto bytes = config::parse_quantity(std::string_view(text.data(), text.size()));
  if (!bytes || *bytes < min || *bytes > max) return false;
  *out = *bytes;
  return true;
}

}  // namespace

const char* CallModeName(CallMode mode) {
  switch (mode) {
    case CallMode::kUnary:
      return "unary";
    case CallMode::kInvokeService:
      return "invoke-service";
    case CallMode::kClientStream:
      return "client-stream";
  }
  return "?";
}

absl::StatusOr<GrpcLoadOptions> ParseGrpcLoadOptions(int argc, char** argv) {
  GrpcLoadOptions o;
  bool have_target = false;
  bool have_requests = false;
  bool have_body_size = false;
  bool have_stream_sizes = false;  // --total-bytes or --message-size
  for (int i = 1; i < argc; ++i) {
    const absl::string_view flag = argv[i];
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("flag ", flag, " needs a value"));
    const absl::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--target") {
      ok = have_target = ParseTarget(value, &o.port);
      o.target = std::string(value);
    } else if (flag == "--mode") {
      ok = ParseMode(value, &o.mode);
    } else if (flag == "--app-id") {
      o.app_id = std::string(value);
      ok = !o.app_id.empty();
    } else if (flag == "-n") {
      ok = have_requests = absl::SimpleAtoi(value, &o.requests) && o.requests > 0;
    } else if (flag == "-c") {
      ok = absl::SimpleAtoi(value, &o.channels) && o.channels > 0 && o.channels <= 1024;
    } else if (flag == "--body-size") {
      ok = have_body_size = ParseBytes(value, 0, kMaxPayloadBytes, &o.body_size);
    } else if (flag == "--timeout") {
      double seconds = 0;
      ok = absl::SimpleAtod(value, &seconds) && seconds > 0;
      o.timeout = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    } else if (flag == "--total-bytes") {
      ok = have_stream_sizes = ParseBytes(value, 1, UINT64_MAX, &o.total_bytes);
    } else if (flag == "--message-size") {
      ok = have_stream_sizes = ParseBytes(value, 1, kMaxPayloadBytes, &o.message_size);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", flag));
    }
    if (!ok) return absl::InvalidArgumentError(absl::StrCat("bad value for ", flag, ": ", value));
  }
  if (!have_target) return absl::InvalidArgumentError("--target 127.0.0.1:<port> is required");
  if (o.mode == CallMode::kInvokeService && o.app_id.empty()) {
    return absl::InvalidArgumentError("--mode invoke-service needs --app-id (the InvokeService id)");
  }
  // A flag that would silently change nothing is a mistake worth hearing about.
  if (o.mode == CallMode::kClientStream && have_body_size) {
    return absl::InvalidArgumentError("--body-size does not apply to --mode client-stream (use --message-size)");
  }
  if (o.mode != CallMode::kClientStream && have_stream_sizes) {
    return absl::InvalidArgumentError("--total-bytes and --message-size apply to --mode client-stream only");
  }
  if (o.mode == CallMode::kClientStream && !have_requests) o.requests = kDefaultStreamCalls;
  return o;
}

}  // namespace ringside::grpc_load
