#pragma once
// The Dapr gRPC API's own methods on --dapr-grpc-port (spec §4.2, §9):
//  - InvokeServiceCall: one /dapr.proto.runtime.v1.Dapr/InvokeService call. The request becomes
//    an InternalInvokeRequest exactly as on the HTTP API (§5.1/§5.2: every incoming gRPC
//    metadata pair plus the Dapr keys) and runs through invoke::Invocation; the callee's
//    InternalInvokeResponse is mapped back to a gRPC answer (§4.2, map_invoke_service_response).
//  - encode_get_metadata_response: the GetMetadataResponse bytes, built once at start-up.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/grpc/header_store.h"
#include "dataplane/grpc/served_call.h"
#include "dataplane/grpc/server_connection.h"
#include "dataplane/caller/invocation.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/runtime/timer_list.h"

namespace ringside::invoke {

// A gRPC answer for the API port. Views stay valid while the object lives, except
// status_message, which may view the InternalInvokeResponse it was mapped from.
struct GrpcAnswer {
  explicit GrpcAnswer(mem::ShardPool* pool)
      : headers(pool), trailers(pool), message(pool), text(pool) {}
  int code = 0;                     // gRPC status code
  std::string_view status_message;  // grpc-message (not yet percent-encoded)
  grpc::HeaderStore headers;        // response header metadata, wire form
  grpc::HeaderStore trailers;       // trailer metadata, wire form (incl. grpc-status-details-bin)
  mem::Buffer message;              // encoded response message (OK answers only)
  mem::Buffer text;                 // storage for a formatted status_message

  void reset() {
    code = 0;
    status_message = {};
    headers.clear();
    trailers.clear();
    message.clear();
    text.clear();
  }
  // code + a formatted message kept in `text`. False: no memory.
  bool set_error(int grpc_code, std::string_view formatted);
};

// §4.2: the InvokeService answer for the callee's encoded InternalInvokeResponse.
//  - HTTP callee (code >= 100): header dapr-http-status: <code>; 2xx → OK + InvokeResponse;
//    else the §5.8 code, message = reason phrase, and a google.rpc.ErrorInfo detail (reason,
//    domain "dapr.io", metadata http.code / http.error_message = body cut to 63 bytes) in
//    grpc-status-details-bin.
//  - gRPC callee: its status (code, message, details as grpc-status-details-bin), headers and
//    trailers (§5.4; IANA keys renamed in headers only), and its InvokeResponse when OK.
// False: the response does not decode or memory ran out (the caller answers INTERNAL).
bool map_invoke_service_response(std::string_view internal_invoke_response, GrpcAnswer* out);

// The encoded google.rpc.ErrorInfo detail for an HTTP error status (exposed for tests).
bool encode_http_error_info(int http_status, std::string_view body, mem::Buffer* out);

// grpc-status-details-bin (unpadded base64) of daprd's ErrorFromHTTPResponseCode(status, detail):
// Status{code from the HTTP status, message = reason phrase, [ErrorInfo]}. Start-up only (it
// allocates): the API token answers are built once.
std::string http_error_status_details(int http_status, std::string_view detail);

// One InvokeService call on the API port: a grpc::ServedCall of its connection (the host),
// answered on it and released when the answer is out.
class InvokeServiceCall final : public grpc::ServedCall, public InvocationOwner {
 public:
  InvokeServiceCall(ShardServices* svc, grpc::CallHost* host, grpc::CallId id);
  ~InvokeServiceCall() override;

  // Starts the invocation; the answer may be given (and the call released) before start()
  // returns.
  void start(const grpc::UnaryRequest& req);

  GrpcAnswer& answer() { return answer_; }
  bool answered() const { return answered_; }

  // grpc::ServedCall: the client went away: stop, answer nothing.
  void on_inbound_cancelled() override;
  // InvocationOwner
  void on_invocation_response(std::string_view internal_invoke_response) override;
  void on_invocation_error(int grpc_code, std::string_view error_text) override;

 private:
  bool build_request(const grpc::UnaryRequest& req, std::string_view app_id,
                     std::string_view method, bool self_call);
  void fail_internal(std::string_view error_text);
  // The outcome came from a broadcast: remember its count for the trailer.
  void note_broadcast();
  void deliver();
  static void on_deadline(void* self);

  ShardServices* svc_;
  grpc::CallHost* host_;         // where the answer goes
  Invocation invocation_;        // resolve, CallLocal or self-call, built-in retry
  mem::Buffer target_;           // the id as the client sent it (error messages)
  mem::Buffer method_;           // normalized method
  GrpcAnswer answer_;            // what goes back
  shard::Timer deadline_;        // the client's grpc-timeout
  bool answered_ = false;        // answer delivered
  int64_t received_ns_ = 0;      // issue 11: when the call arrived (dapr_grpc_io_server_server_latency)
  int64_t broadcast_trailer_ = -1;  // instances a broadcast reached, sent as the
                                    // ringside-broadcast-instances trailer (-1: not a broadcast)
};

// What GetMetadata reports (spec §9), gathered by main from the flags.
struct MetadataInfo {
  std::string app_id;            // id
  std::string runtime_version;   // runtime_version and extended_metadata[daprRuntimeVersion]
  bool has_app = false;          // app_connection_properties present
  int32_t app_port = 0;          // its port
  std::string app_protocol;      // its protocol
  std::string channel_address;   // its channel_address
  int32_t max_concurrency = 0;   // its max_concurrency
  bool has_health = false;       // app health checks on: health present
  std::string health_check_path;       // health.health_check_path
  std::string health_probe_interval;   // e.g. "5s"
  std::string health_probe_timeout;    // e.g. "500ms"
  int32_t health_threshold = 0;        // health.health_threshold
};

// dapr.proto.runtime.v1.GetMetadataResponse bytes (main thread only: uses std::string).
std::string encode_get_metadata_response(const MetadataInfo& info);

}  // namespace ringside::invoke
