#pragma once
// gRPC status codes and the mappings between gRPC codes, HTTP statuses and HTTP/2 reset codes.
#include <cstdint>
#include <string_view>

namespace ringside::grpc {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Dapr's gRPC code → HTTP status (spec §5.8 table 1); unknown codes → 500.
int http_status_from_grpc(int code);
// Dapr's HTTP status → gRPC code for HTTP apps behind InvokeService (spec §5.8 table 2).
int grpc_code_from_http(int status);
// gRPC's own rule for a non-200 HTTP response without grpc-status on a gRPC call
// (gRPC doc "http-grpc-status-mapping"): 400→INTERNAL, 401→UNAUTHENTICATED,
// 403→PERMISSION_DENIED, 404→UNIMPLEMENTED, 429/502/503/504→UNAVAILABLE, else UNKNOWN.
int grpc_code_from_transport_http(int status);
// gRPC's mapping of an HTTP/2 RST_STREAM error code seen by a client to a status code.
int grpc_code_from_h2_error(uint32_t h2_error_code);

// Parses a grpc-status header value ("0".."99..."); false if not a non-negative decimal.
bool parse_grpc_status(std::string_view v, int* out);
// Writes the decimal form of a status code into out (at least 11 bytes); returns its length.
size_t format_grpc_status(int code, char* out);

}  // namespace ringside::grpc
