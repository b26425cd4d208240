#pragma once
// DaprMetrics: one shard's counters for daprd's invocation series (spec §9a, issue 11), so
// dashboards built on daprd's names work against ringsided. Fixed-size LabelTables (no
// allocation on the shard), summed over shards by the metrics thread (dapr_metrics_text.h).
// Names, labels and the millisecond buckets follow dapr/dapr pkg/diagnostics.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/runtime/label_table.h"

namespace ringside::shard {

// daprd's defaultLatencyDistribution (pkg/diagnostics/utils), in milliseconds; +Inf implicit.
inline constexpr std::array<int64_t, 34> kDaprLatencyBoundsMs = {
    1,   2,   3,   4,   5,   6,   8,    10,   13,   16,    20,    25,    30,     40,    50, 65, 80,
    100, 130, 160, 200, 250, 300, 400, 500, 650, 800, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
inline constexpr size_t kDaprLatencyBuckets = kDaprLatencyBoundsMs.size() + 1;

// gRPC status codes 0..16 each get a slot; anything else lands in the last ("other") one.
inline constexpr size_t kGrpcStatusSlots = 18;
inline size_t grpc_status_slot(int code) {
  return code >= 0 && code <= 16 ? static_cast<size_t>(code) : kGrpcStatusSlots - 1;
}
// gRPC code names as OpenCensus's grpc_server_status label shows them.
inline constexpr std::array<const char*, kGrpcStatusSlots> kGrpcStatusNames = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED", "OTHER"};

// A millisecond histogram with daprd's buckets. Owning shard writes, metrics thread reads.
struct MsHistogram {
  // The bounds in nanoseconds, so recording compares without converting.
  static constexpr std::array<int64_t, kDaprLatencyBoundsMs.size()> kBoundsNs = [] {
    std::array<int64_t, kDaprLatencyBoundsMs.size()> a{};
    for (size_t i = 0; i < a.size(); ++i) a[i] = kDaprLatencyBoundsMs[i] * 1'000'000;
    return a;
  }();
  std::array<std::atomic<uint64_t>, kDaprLatencyBuckets> buckets{};  // non-cumulative counts
  std::atomic<uint64_t> sum_us{0};                                    // total, microseconds

  void record_ns(int64_t ns) {
    if (ns < 0) ns = 0;
    size_t i = 0;
    while (i < kBoundsNs.size() && ns > kBoundsNs[i]) ++i;
    bump_relaxed(buckets[i]);
    bump_relaxed(sum_us, static_cast<uint64_t>(ns / 1000));
  }
};

enum class InvokeType : uint8_t { kUnary = 0, kStreaming = 1 };  // daprd's `type` label
inline constexpr std::array<const char*, 2> kInvokeTypeNames = {"unary", "streaming"};

// The gRPC methods ringside counts in dapr_grpc_io_server_* (full paths, as daprd labels them).
enum class GrpcServedMethod : uint8_t { kCallLocal = 0, kInvokeService = 1 };
inline constexpr size_t kGrpcServedMethods = 2;
inline constexpr std::array<std::string_view, kGrpcServedMethods> kGrpcServedMethodPaths = {
    "/dapr.proto.internals.v1.ServiceInvocation/CallLocal", "/dapr.proto.runtime.v1.Dapr/InvokeService"};

// Caller side, one row per destination app id.
struct PeerAppRow {
  std::array<std::atomic<uint64_t>, 2> req_sent{};                        // by InvokeType
  std::array<std::array<std::atomic<uint64_t>, 2>, kGrpcStatusSlots> res_recv{};  // [status][type]
  std::array<MsHistogram, kGrpcStatusSlots> res_recv_latency;             // by status
};

// Callee side, one row per source (calling) app id.
struct SourceAppRow {
  std::atomic<uint64_t> req_recv{0};                               // CallLocal requests received
  std::array<std::atomic<uint64_t>, kGrpcStatusSlots> res_sent{};  // responses sent, by status
};

// A server's (HTTP API or gRPC) row: keyed by its rendered label set.
struct ServerRow {
  std::atomic<uint64_t> count{0};  // requests completed
  MsHistogram latency;             // receive → response written
};

// Label text bounds: an app id (Dapr caps ids well below this); a server row's label set.
inline constexpr size_t kAppIdLabelMax = 64;
inline constexpr size_t kServerLabelMax = 192;

// Writes a rendered label set (`k="v",k2="v2"`) into fixed storage; values are made safe with
// label_safe_char. Past the capacity it stops and says so (the caller then uses the overflow row).
struct LabelWriter {
  char* buf;       // destination
  size_t cap;      // its size
  size_t len = 0;  // bytes written
  bool ok = true;  // false once something did not fit

  void raw(std::string_view s) {
    if (!ok || s.size() > cap - len) {
      ok = false;
      return;
    }
    for (char c : s) buf[len++] = c;
  }
  void value(std::string_view s) {
    if (!ok || s.size() > cap - len) {
      ok = false;
      return;
    }
    for (char c : s) buf[len++] = label_safe_char(c);
  }
  std::string_view view() const { return ok ? std::string_view(buf, len) : kOverflowLabel; }
};

// daprd labels dapr_http_server_* with the request path; ringside bounds it: an invocation keeps
// `/v1.0/invoke/<app-id>/method/<first segment of the method>` (no query, no later segments:
// an id in the path must not make a series per call); any other path keeps its first two
// segments (`/v1.0/healthz`, `/v1.0/metadata`, or `/orders/x` for dapr-app-id header routing).
inline std::string_view bounded_http_path(std::string_view path) {
  constexpr std::string_view kInvoke = "/v1.0/invoke/";
  size_t end = 0;
  if (path.substr(0, kInvoke.size()) == kInvoke) {
    const size_t app_end = path.find('/', kInvoke.size());
    constexpr std::string_view kMethod = "/method/";
    if (app_end != std::string_view::npos && path.substr(app_end, kMethod.size()) == kMethod) {
      end = path.find('/', app_end + kMethod.size());
    } else {
      end = app_end;
    }
  } else {
    const size_t first = path.find('/', 1);
    end = first == std::string_view::npos ? first : path.find('/', first + 1);
  }
  return end == std::string_view::npos ? path : path.substr(0, end);
}

struct DaprMetrics {
  LabelTable<PeerAppRow, 16, kAppIdLabelMax> peers;       // dst_app_id → caller counters
  LabelTable<SourceAppRow, 16, kAppIdLabelMax> sources;   // src_app_id → callee counters
  LabelTable<ServerRow, 32, kServerLabelMax> http;        // method,path,status → HTTP API server
  LabelTable<ServerRow, 16, kServerLabelMax> grpc;        // grpc_server_method,status → gRPC servers
  std::array<std::array<ServerRow*, kGrpcStatusSlots>, kGrpcServedMethods> fixed_grpc_rows{};  // rows in `grpc` by method, status (shard only)

  // Caller: a request went to a peer sidecar.
  void note_req_sent(std::string_view dst_app_id, InvokeType type) {
    bump_relaxed(peers.row(dst_app_id).req_sent[static_cast<size_t>(type)]);
  }
  // Caller: the peer's response (gRPC status of the CallLocal) arrived after `ns`.
  void note_res_recv(std::string_view dst_app_id, InvokeType type, int grpc_status, int64_t ns) {
    PeerAppRow& r = peers.row(dst_app_id);
    const size_t s = grpc_status_slot(grpc_status);
    bump_relaxed(r.res_recv[s][static_cast<size_t>(type)]);
    r.res_recv_latency[s].record_ns(ns);
  }
  // A gRPC server (API or internal port) completed `method` (full path) with `grpc_status`
  // after `ns`: daprd's dapr_grpc_io_server_completed_rpcs / _server_latency.
  void note_grpc_served(std::string_view method, int grpc_status, int64_t ns) {
    char key[kServerLabelMax];
    LabelWriter w{key, sizeof key};
    w.raw("grpc_server_method=\"");
    w.value(method);
    w.raw("\",grpc_server_status=\"");
    w.raw(kGrpcStatusNames[grpc_status_slot(grpc_status)]);
    w.raw("\"");
    ServerRow& r = grpc.row(w.view());
    bump_relaxed(r.count);
    r.latency.record_ns(ns);
  }
  // A fixed-method gRPC call answered (see GrpcServedMethod): note_grpc_served with the row looked
  // up once per method and status (the label text need not be built and hashed per call).
  void note_fixed_grpc_served(GrpcServedMethod m, int grpc_status, int64_t ns) {
    ServerRow*& cached = fixed_grpc_rows[static_cast<size_t>(m)][grpc_status_slot(grpc_status)];
    if (!cached) {
      char key[kServerLabelMax];
      LabelWriter w{key, sizeof key};
      w.raw("grpc_server_method=\"");
      w.raw(kGrpcServedMethodPaths[static_cast<size_t>(m)]);
      w.raw("\",grpc_server_status=\"");
      w.raw(kGrpcStatusNames[grpc_status_slot(grpc_status)]);
      w.raw("\"");
      cached = &grpc.row(w.view());
    }
    bump_relaxed(cached->count);
    cached->latency.record_ns(ns);
  }
  // Callee: a CallLocal arrived from src_app_id (dapr-caller-app-id metadata).
  void note_req_recv(std::string_view src_app_id) { bump_relaxed(sources.row(src_app_id).req_recv); }
  // Callee: its response went back to src_app_id.
  void note_res_sent(std::string_view src_app_id, int grpc_status) {
    bump_relaxed(sources.row(src_app_id).res_sent[grpc_status_slot(grpc_status)]);
  }
};

}  // namespace ringside::shard
