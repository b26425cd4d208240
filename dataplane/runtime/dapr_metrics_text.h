#pragma once
// Prometheus text for daprd's invocation series (spec §9a, docs/metrics.md): sums the shards'
// DaprMetrics tables (relaxed reads; a scrape may see a bucket before its _sum) and renders
// them under daprd's names and labels. Runs on the metrics thread only (allocates freely).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/runtime/shard_counters.h"

namespace ringside::metrics_text {

namespace dapr_detail {

inline uint64_t load(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

// A histogram summed over shards.
struct MsSum {
  std::array<uint64_t, shard::kDaprLatencyBuckets> buckets{};  // non-cumulative
  uint64_t sum_us = 0;                                         // total, microseconds
  void add(const shard::MsHistogram& h) {
    for (size_t b = 0; b < buckets.size(); ++b) buckets[b] += load(h.buckets[b]);
    sum_us += load(h.sum_us);
  }
  uint64_t count() const {
    uint64_t n = 0;
    for (uint64_t b : buckets) n += b;
    return n;
  }
};

inline void header(std::string* out, const std::string& name, const std::string& help, const std::string& type) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

// name_bucket/_sum/_count lines for one label set (`labels` without braces, non-empty).
inline void histogram(std::string* out, const std::string& name, const std::string& labels, const MsSum& h) {
  uint64_t cumulative = 0;
  for (size_t b = 0; b < h.buckets.size(); ++b) {
    cumulative += h.buckets[b];
    const std::string le = b < shard::kDaprLatencyBoundsMs.size() ? absl::StrCat(shard::kDaprLatencyBoundsMs[b]) : "+Inf";
    absl::StrAppend(out, name, "_bucket{", labels, ",le=\"", le, "\"} ", cumulative, "\n");
  }
  absl::StrAppend(out, name, "_sum{", labels, "} ", absl::StrFormat("%.3f", static_cast<double>(h.sum_us) / 1000.0), "\n");
  absl::StrAppend(out, name, "_count{", labels, "} ", cumulative, "\n");
}

struct PeerSum {
  std::array<uint64_t, 2> req_sent{};                                      // by type
  std::array<std::array<uint64_t, 2>, shard::kGrpcStatusSlots> res_recv{};  // [status][type]
  std::array<MsSum, shard::kGrpcStatusSlots> latency{};                    // by status
};
struct SourceSum {
  uint64_t req_recv = 0;                                      // requests received
  std::array<uint64_t, shard::kGrpcStatusSlots> res_sent{};   // by status
};
struct ServerSum {
  uint64_t count = 0;  // requests
  MsSum latency;       // their latency
};

// An app id as a label value: characters Prometheus text cannot carry raw become '_'.
inline std::string app_id_label(std::string_view id) {
  std::string out(id);
  for (char& c : out) c = shard::label_safe_char(c);
  return out;
}

// `status` label text: the numeric gRPC code, "other" past 16 (as daprd renders codes).
inline std::string status_text(size_t slot) {
  return slot + 1 < shard::kGrpcStatusSlots ? absl::StrCat(slot) : std::string("other");
}

}  // namespace dapr_detail

// Appends every dapr_* series of shards items[0..n). app_id: this sidecar's.
inline void append_dapr_metrics(std::string* out, const shard::ShardCounters* items, int n,
                                const std::string& app_id) {
  std::map<std::string, dapr_detail::PeerSum> peers;
  std::map<std::string, dapr_detail::SourceSum> sources;
  std::map<std::string, dapr_detail::ServerSum> http;
  std::map<std::string, dapr_detail::ServerSum> grpc;
  for (int i = 0; i < n; ++i) {
    const shard::DaprMetrics& d = items[i].dapr;
    d.peers.for_each([&](std::string_view key, const shard::PeerAppRow& r) {
      dapr_detail::PeerSum& s = peers[dapr_detail::app_id_label(key)];
      for (size_t t = 0; t < 2; ++t) s.req_sent[t] += dapr_detail::load(r.req_sent[t]);
      for (size_t st = 0; st < shard::kGrpcStatusSlots; ++st) {
        for (size_t t = 0; t < 2; ++t) s.res_recv[st][t] += dapr_detail::load(r.res_recv[st][t]);
        s.latency[st].add(r.res_recv_latency[st]);
      }
    });
    d.sources.for_each([&](std::string_view key, const shard::SourceAppRow& r) {
      dapr_detail::SourceSum& s = sources[dapr_detail::app_id_label(key)];
      s.req_recv += dapr_detail::load(r.req_recv);
      for (size_t st = 0; st < shard::kGrpcStatusSlots; ++st) s.res_sent[st] += dapr_detail::load(r.res_sent[st]);
    });
    d.http.for_each([&](std::string_view key, const shard::ServerRow& r) {
      dapr_detail::ServerSum& s = http[std::string(key)];
      s.count += dapr_detail::load(r.count);
      s.latency.add(r.latency);
    });
    d.grpc.for_each([&](std::string_view key, const shard::ServerRow& r) {
      dapr_detail::ServerSum& s = grpc[std::string(key)];
      s.count += dapr_detail::load(r.count);
      s.latency.add(r.latency);
    });
  }
  const std::string app = absl::StrCat("app_id=\"", app_id, "\"");

  // Caller side. Rows that never counted anything (e.g. an empty overflow row) are left out.
  dapr_detail::header(out, "dapr_runtime_service_invocation_req_sent_total",
                      "Requests sent to peer sidecars (service invocation)", "counter");
  for (const auto& [dst, s] : peers) {
    for (size_t t = 0; t < 2; ++t) {
      if (s.req_sent[t] == 0) continue;
      absl::StrAppend(out, "dapr_runtime_service_invocation_req_sent_total{", app, ",dst_app_id=\"", dst,
                      "\",type=\"", shard::kInvokeTypeNames[t], "\"} ", s.req_sent[t], "\n");
    }
  }
  dapr_detail::header(out, "dapr_runtime_service_invocation_res_recv_total",
                      "Responses received from peer sidecars, by gRPC status", "counter");
  for (const auto& [dst, s] : peers) {
    for (size_t st = 0; st < shard::kGrpcStatusSlots; ++st) {
      for (size_t t = 0; t < 2; ++t) {
        if (s.res_recv[st][t] == 0) continue;
        absl::StrAppend(out, "dapr_runtime_service_invocation_res_recv_total{", app, ",src_app_id=\"", dst,
                        "\",status=\"", dapr_detail::status_text(st), "\",type=\"", shard::kInvokeTypeNames[t],
                        "\"} ", s.res_recv[st][t], "\n");
      }
    }
  }
  dapr_detail::header(out, "dapr_runtime_service_invocation_res_recv_latency_ms",
                      "Request sent to a peer sidecar -> its response received, milliseconds", "histogram");
  for (const auto& [dst, s] : peers) {
    for (size_t st = 0; st < shard::kGrpcStatusSlots; ++st) {
      if (s.latency[st].count() == 0) continue;
      dapr_detail::histogram(out, "dapr_runtime_service_invocation_res_recv_latency_ms",
                             absl::StrCat(app, ",src_app_id=\"", dst, "\",status=\"", dapr_detail::status_text(st), "\""),
                             s.latency[st]);
    }
  }
  // Callee side.
  dapr_detail::header(out, "dapr_runtime_service_invocation_req_recv_total",
                      "Requests received from peer sidecars (CallLocal/CallLocalStream)", "counter");
  for (const auto& [src, s] : sources) {
    if (s.req_recv == 0) continue;
    absl::StrAppend(out, "dapr_runtime_service_invocation_req_recv_total{", app, ",src_app_id=\"", src, "\"} ",
                    s.req_recv, "\n");
  }
  dapr_detail::header(out, "dapr_runtime_service_invocation_res_sent_total",
                      "Responses sent to peer sidecars, by gRPC status", "counter");
  for (const auto& [src, s] : sources) {
    for (size_t st = 0; st < shard::kGrpcStatusSlots; ++st) {
      if (s.res_sent[st] == 0) continue;
      absl::StrAppend(out, "dapr_runtime_service_invocation_res_sent_total{", app, ",dst_app_id=\"", src,
                      "\",status=\"", dapr_detail::status_text(st), "\"} ", s.res_sent[st], "\n");
    }
  }
  // Servers: the row key is the rendered label set (method,path,status / method,status).
  dapr_detail::header(out, "dapr_http_server_request_count", "HTTP API requests answered", "counter");
  for (const auto& [labels, s] : http) {
    if (s.count == 0 || labels == shard::kOverflowLabel) continue;
    absl::StrAppend(out, "dapr_http_server_request_count{", app, ",", labels, "} ", s.count, "\n");
  }
  if (auto it = http.find(std::string(shard::kOverflowLabel)); it != http.end() && it->second.count > 0) {
    absl::StrAppend(out, "dapr_http_server_request_count{", app, ",method=\"_other\",path=\"_other\",status=\"_other\"} ",
                    it->second.count, "\n");
  }
  dapr_detail::header(out, "dapr_http_server_latency", "HTTP API request received -> response written, milliseconds",
                      "histogram");
  for (const auto& [labels, s] : http) {
    if (s.count == 0) continue;
    const std::string l = labels == shard::kOverflowLabel ? std::string("method=\"_other\",path=\"_other\",status=\"_other\"")
                                                          : labels;
    dapr_detail::histogram(out, "dapr_http_server_latency", absl::StrCat(app, ",", l), s.latency);
  }
  dapr_detail::header(out, "dapr_grpc_io_server_completed_rpcs", "gRPC calls completed (API and internal ports)", "counter");
  for (const auto& [labels, s] : grpc) {
    if (s.count == 0) continue;
    const std::string l = labels == shard::kOverflowLabel
                              ? std::string("grpc_server_method=\"_other\",grpc_server_status=\"_other\"")
                              : labels;
    absl::StrAppend(out, "dapr_grpc_io_server_completed_rpcs{", app, ",", l, "} ", s.count, "\n");
  }
  dapr_detail::header(out, "dapr_grpc_io_server_server_latency", "gRPC call received -> completed, milliseconds",
                      "histogram");
  for (const auto& [labels, s] : grpc) {
    if (s.count == 0) continue;
    const std::string l = labels == shard::kOverflowLabel
                              ? std::string("grpc_server_method=\"_other\",grpc_server_status=\"_other\"")
                              : labels;
    dapr_detail::histogram(out, "dapr_grpc_io_server_server_latency", absl::StrCat(app, ",", l), s.latency);
  }
}

}  // namespace ringside::metrics_text
