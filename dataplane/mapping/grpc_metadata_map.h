#pragma once
// Dapr metadata <-> gRPC metadata (spec §5.4, §5.5, §4.2).
//
// Toward gRPC peers (OnInvoke request metadata; InvokeService response headers and trailers),
// GrpcMetadataConverter applies §5.4 value by value and writes wire-form pairs (lower-case
// keys, "-bin" values as base64) into a grpc::HeaderStore, whose bytes live in pool memory.
//
// From gRPC peers (InvokeService request metadata; OnInvoke response headers and trailers),
// add_grpc_metadata() stores what daprd stores after Go decoded the wire: lower-case keys and
// "-bin" values as padded standard base64.
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/grpc/header_store.h"
#include "dataplane/grpc/metadata.h"
#include "dataplane/mapping/metadata_builder.h"

namespace ringside::invoke {

// Keys of the IANA permanent header list that §5.4 renames to "dapr-<lower>" (exact case:
// only HTTP-originated, canonical keys match; gRPC keys are lower-case and do not).
bool is_iana_permanent_header(std::string_view key);
// A key gRPC can carry as metadata: non-empty, only 0-9 a-z '-' '_' '.'.
bool is_valid_grpc_key(std::string_view key);
// Go's base64.StdEncoding would decode it (padding required, length a multiple of 4).
bool is_std_base64(std::string_view v);
// Keys never sent as metadata by us: transport-owned headers (grpc-go's reserved list, incl.
// user-agent and grpc-status-details-bin) and grpc-accept-encoding (we never decompress, so an
// app or client must not be told we accept gzip), and dapr-api-token (a caller's token stays with
// its own sidecar; apps get APP_API_TOKEN).
bool is_dropped_grpc_key(std::string_view lower_key);

// The 29-byte grpc-trace-bin layout (§5.4) <-> "00-<trace>-<span>-<flags>".
constexpr size_t kTraceBinSize = 29;
bool parse_traceparent(std::string_view traceparent, uint8_t out[kTraceBinSize]);
bool parse_trace_bin(std::string_view base64, uint8_t out[kTraceBinSize]);
// Writes the 55-character traceparent of a valid trace-bin; returns its length.
size_t format_traceparent(const uint8_t bin[kTraceBinSize], char out[55]);

class GrpcMetadataConverter {
 public:
  // rename_http_headers: IANA keys become "dapr-<lower>" (app calls and response headers;
  // not trailers). The converter views the values given to add() until finish().
  GrpcMetadataConverter(grpc::HeaderStore* out, bool rename_http_headers)
      : out_(out), rename_(rename_http_headers) {}
  // One value of one Dapr metadata key; values a gRPC peer could not take (bad key, control
  // characters, invalid base64 for "-bin") are skipped. False: out of memory.
  bool add(std::string_view key, std::string_view value);
  // The trace step (§5.4) once every value is in: the trace context is passed on (ringside
  // starts no spans) in both forms, traceparent/tracestate and grpc-trace-bin.
  bool finish();

 private:
  grpc::HeaderStore* out_;        // where wire-form pairs go
  bool rename_;                   // IANA keys -> dapr-<lower>
  bool ok_ = true;                // no allocation failed so far
  std::string_view content_type_; // first exact "content-type": application/grpc* = gRPC origin
  std::string_view traceparent_;  // first traceparent value
  std::string_view tracestate_;   // first tracestate value
  std::string_view trace_bin_;    // first grpc-trace-bin value (base64)
};

// Adds gRPC wire metadata to a Dapr metadata map being built: keys as they are (HTTP/2 keys
// are lower-case), "-bin" values re-padded to standard base64 (invalid ones dropped, as Go
// fails to decode them), `skip_key` left out. Re-padded values are copied into `out`; keys are viewed.
// False: the builder is full.
bool add_grpc_metadata(std::span<const grpc::Metadata> md, MetadataBuilder* out,
                       std::string_view skip_key = {});

}  // namespace ringside::invoke
