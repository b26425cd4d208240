#include "dataplane/mapping/caller_metadata.h"
#include "dataplane/ingress/grpc/invoke_service.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "dataplane/codec/stream_messages.h"
#include "dataplane/codec/utf8.h"
#include "dataplane/codec/wire.h"
#include "dataplane/grpc/status.h"
#include "dataplane/http1/base64.h"
#include "dataplane/http1/method_normalize.h"
#include "dataplane/http1/reason_phrase.h"
#include "dataplane/mapping/grpc_metadata_map.h"
#include "dataplane/upstream/request_hash_key.h"
#include "dataplane/mapping/header_rules.h"
#include "dataplane/mapping/invoke_scratch.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/mapping/invoke_target.h"
#include "dataplane/mem/shard_pool.h"

namespace ringside::invoke {
namespace wire = codec::wire;
namespace {

constexpr std::string_view kErrorInfoType = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr std::string_view kStatusDetailsKey = "grpc-status-details-bin";
constexpr size_t kKeepBufferBytes = 256 * 1024;  // bigger request buffers go back to the pool

// ---- google.rpc.Status (same layout as dapr.proto.internals.v1.Status) ---------------------

template <class ForEachDetail>
size_t status_size(int32_t code, std::string_view msg, ForEachDetail&& each) {
  size_t n = 0;
  if (code != 0) n += wire::varint_field_size(1, wire::int32_wire(code));
  if (!msg.empty()) n += wire::len_field_size(2, msg.size());
  each([&](const codec::AnyFields& d) { n += wire::len_field_size(3, codec::encoded_size(d)); });
  return n;
}

template <class ForEachDetail>
uint8_t* write_status(int32_t code, std::string_view msg, ForEachDetail&& each, uint8_t* out) {
  if (code != 0) out = wire::write_varint_field(1, wire::int32_wire(code), out);
  if (!msg.empty()) out = wire::write_bytes_field(2, msg, out);
  each([&](const codec::AnyFields& d) {
    out = wire::write_len_header(3, codec::encoded_size(d), out);
    out = codec::encode(d, out);
  });
  return out;
}

// Adds grpc-status-details-bin = base64(status bytes), unpadded as grpc-go writes it.
bool add_status_details(std::string_view status, mem::Buffer* scratch, grpc::HeaderStore* out) {
  scratch->clear();
  size_t cap = http1::base64_encoded_size(status.size());
  if (!scratch->reserve(cap)) return false;
  char* p = reinterpret_cast<char*>(scratch->tail());
  size_t n = http1::base64_encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(status.data()), status.size()),
      std::span<char>(p, cap));
  while (n > 0 && p[n - 1] == '=') --n;
  return out->add(kStatusDetailsKey, std::string_view(p, n));
}

size_t map_entry_size(std::string_view k, std::string_view v) {
  return wire::len_field_size(1, k.size()) + wire::len_field_size(2, v.size());
}

uint8_t* write_map_entry(uint32_t field, std::string_view k, std::string_view v, uint8_t* out) {
  out = wire::write_len_header(field, map_entry_size(k, v), out);
  out = wire::write_bytes_field(1, k, out);
  return wire::write_bytes_field(2, v, out);
}

bool encode_invoke_response(const codec::InvokeResponseView& m, mem::Buffer* out) {
  codec::InvokeResponseFields f;
  f.data = codec::AnyFields{m.data.type_url, m.data.value, m.data.present};
  f.content_type = m.content_type;
  size_t size = codec::encoded_size(f);
  out->clear();
  if (!out->reserve(size)) return false;
  codec::encode(f, out->tail());
  out->commit(size);
  return true;
}

}  // namespace

bool GrpcAnswer::set_error(int grpc_code, std::string_view formatted) {
  reset();
  code = grpc_code;
  if (!text.append(formatted)) return false;
  status_message = text.view();
  return true;
}

bool encode_http_error_info(int http_status, std::string_view body, mem::Buffer* out) {
  // daprd: ErrorInfo{reason: StatusText, domain: "dapr.io", metadata: {http.code, http.error_message}},
  // the body cut to 63 bytes (back to a UTF-8 boundary here, so the detail still parses).
  std::string_view reason = http1::reason_phrase(http_status);
  char code_text[12];
  int cn = snprintf(code_text, sizeof code_text, "%d", http_status);
  std::string_view code(code_text, cn > 0 ? static_cast<size_t>(cn) : 0);
  std::string_view detail = body.substr(0, 63);
  for (int i = 0; i < 3 && !detail.empty() && !codec::is_valid_utf8(detail); ++i) {
    detail.remove_suffix(1);  // a multi-byte character cut in half
  }
  if (!codec::is_valid_utf8(detail)) detail = {};
  size_t size = (reason.empty() ? 0 : wire::len_field_size(1, reason.size())) +
                wire::len_field_size(2, 7) +
                wire::len_field_size(3, map_entry_size("http.code", code)) +
                wire::len_field_size(3, map_entry_size("http.error_message", detail));
  out->clear();
  if (!out->reserve(size)) return false;
  uint8_t* p = out->tail();
  if (!reason.empty()) p = wire::write_bytes_field(1, reason, p);
  p = wire::write_bytes_field(2, "dapr.io", p);
  p = write_map_entry(3, "http.code", code, p);
  p = write_map_entry(3, "http.error_message", detail, p);
  out->commit(static_cast<size_t>(p - out->tail()));
  return true;
}

std::string http_error_status_details(int http_status, std::string_view detail) {
  mem::ShardPool pool;  // start-up only: a pool of its own for the one buffer
  mem::Buffer info(&pool);
  if (!encode_http_error_info(http_status, detail, &info)) return {};
  const int32_t code = grpc::grpc_code_from_http(http_status);
  const std::string_view reason = http1::reason_phrase(http_status);
  codec::AnyFields any{kErrorInfoType, info.view(), true};
  auto one = [&](auto&& f) { f(any); };
  std::string status(status_size(code, reason, one), '\0');
  write_status(code, reason, one, reinterpret_cast<uint8_t*>(status.data()));
  std::string out(http1::base64_encoded_size(status.size()), '\0');
  size_t n = http1::base64_encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(status.data()), status.size()),
      std::span<char>(out.data(), out.size()));
  while (n > 0 && out[n - 1] == '=') --n;
  out.resize(n);
  return out;
}

bool map_invoke_service_response(std::string_view bytes, GrpcAnswer* out) {
  out->reset();
  codec::InternalInvokeResponseView r;
  if (!codec::decode_internal_invoke_response(bytes, &r)) return false;
  int32_t code = r.status.code;
  GrpcMetadataConverter headers(&out->headers, /*rename_http_headers=*/true);
  r.for_each_header([&](std::string_view k, std::string_view v) { headers.add(k, v); });
  if (!headers.finish()) return false;

  if (code >= 100) {
    char num[12];
    int n = snprintf(num, sizeof num, "%d", code);
    if (!out->headers.add("dapr-http-status", std::string_view(num, n > 0 ? n : 0))) return false;
    if (code >= 200 && code < 300) return encode_invoke_response(r.message, &out->message);
    out->code = grpc::grpc_code_from_http(code);
    out->status_message = http1::reason_phrase(code);
    // Status{code, reason, [Any(ErrorInfo)]} in grpc-status-details-bin; the trailers of an
    // HTTP app are ignored (it has none).
    if (!encode_http_error_info(code, r.message.data.value, &out->message)) return false;
    codec::AnyFields info{kErrorInfoType, out->message.view(), true};
    auto one = [&](auto&& f) { f(info); };
    size_t size = status_size(out->code, out->status_message, one);
    uint8_t status[1024];
    if (size > sizeof status) return false;
    write_status(out->code, out->status_message, one, status);
    bool ok = add_status_details(std::string_view(reinterpret_cast<char*>(status), size),
                                 &out->text, &out->trailers);
    out->message.clear();
    out->text.clear();
    return ok;
  }

  // gRPC callee: its status, trailers and (when OK) its InvokeResponse, as they are.
  out->code = code;
  out->status_message = r.status.message;
  GrpcMetadataConverter trailers(&out->trailers, /*rename_http_headers=*/false);
  r.for_each_trailer([&](std::string_view k, std::string_view v) { trailers.add(k, v); });
  if (!trailers.finish()) return false;
  if (code == 0) return encode_invoke_response(r.message, &out->message);
  bool has_details = false;
  r.status.for_each_detail([&](const codec::AnyView&) { has_details = true; });
  if (!has_details) return true;
  auto each = [&](auto&& f) {
    r.status.for_each_detail([&](const codec::AnyView& d) {
      f(codec::AnyFields{d.type_url, d.value, true});
    });
  };
  size_t size = status_size(code, r.status.message, each);
  if (!out->message.reserve(size)) return false;
  write_status(code, r.status.message, each, out->message.tail());
  out->message.commit(size);
  bool ok = add_status_details(out->message.view(), &out->text, &out->trailers);
  out->message.clear();
  out->text.clear();
  return ok;
}

// ---- InvokeServiceCall ----------------------------------------------------------------------

InvokeServiceCall::InvokeServiceCall(ShardServices* svc, grpc::CallHost* host, grpc::CallId id)
    : grpc::ServedCall(id),
      svc_(svc),
      host_(host),
      invocation_(svc),
      target_(svc->io.pool),
      method_(svc->io.pool),
      answer_(svc->io.pool) {
  deadline_.fn = &InvokeServiceCall::on_deadline;
  deadline_.owner = this;
}

InvokeServiceCall::~InvokeServiceCall() {
  invocation_.cancel();
  svc_->timers.cancel(&deadline_);
}

void InvokeServiceCall::start(const grpc::UnaryRequest& req) {
  shard::ShardCounters::bump(svc_->counters->invoke_requests);
  received_ns_ = shard::monotonic_ns();  // issue 11
  codec::InvokeServiceRequestView v;
  if (!codec::decode_invoke_service_request(req.message, &v)) {
    answer_.set_error(13, "grpc: error unmarshalling request: malformed InvokeServiceRequest");
    deliver();
    return;
  }
  if (!target_.append(v.id)) {
    answer_.set_error(8, "out of memory");
    deliver();
    return;
  }
  std::string_view app_id, ns;
  if (!split_app_id(v.id, &app_id, &ns)) {
    char* msg = svc_->scratch->text;
    int n = snprintf(msg, sizeof svc_->scratch->text, "invalid app id %.*s",
                     static_cast<int>(std::min<size_t>(v.id.size(), 512)), v.id.data());
    fail_internal(std::string_view(msg, n > 0 ? static_cast<size_t>(n) : 0));
    return;
  }
  // The caller normalizes the method like the HTTP API does (§4.1).
  std::string_view method;
  if (!method_.reserve(v.message.method.size() + 1) ||
      http1::normalize_method(v.message.method,
                              std::span<char>(reinterpret_cast<char*>(method_.tail()),
                                              method_.tail_room()),
                              &method) != http1::MethodCheck::kOk) {
    char* msg = svc_->scratch->text;
    int n = snprintf(msg, sizeof svc_->scratch->text,
                     "rpc error: code = InvalidArgument desc = invalid method: %.*s",
                     static_cast<int>(std::min<size_t>(v.message.method.size(), 512)),
                     v.message.method.data());
    fail_internal(std::string_view(msg, n > 0 ? static_cast<size_t>(n) : 0));
    return;
  }
  const SidecarSettings& s = *svc_->settings;
  bool has_ns = v.id.find('.') != std::string_view::npos;
  bool self_call = app_id == s.app_id && (!has_ns || ns == s.app_namespace);
  if (!build_request(req, app_id, method, self_call)) {
    answer_.set_error(8, "request metadata too large");
    deliver();
    return;
  }
  if (req.timeout_ns > 0) svc_->timers.arm(&deadline_, shard::monotonic_ns() + req.timeout_ns);
  invocation_.set_deadline(req.timeout_ns > 0 ? shard::monotonic_ns() + req.timeout_ns : 0);
  invocation_.set_hash_key(upstream::request_hash_key(svc_, app_id, ns, [&](std::string_view name) {
    for (const grpc::Metadata& m : req.metadata) {
      if (m.key == name) return m.value;
    }
    return std::string_view();
  }));
  // The body is in memory: the built-in retry may resend it.
  invocation_.start(app_id, ns, self_call, /*replayable=*/true, this);
}

bool InvokeServiceCall::build_request(const grpc::UnaryRequest& req, std::string_view app_id,
                                      std::string_view method, bool self_call) {
  codec::InvokeServiceRequestView v;
  codec::decode_invoke_service_request(req.message, &v);  // validated by start()
  const SidecarSettings& s = *svc_->settings;
  MetadataBuilder& md = svc_->scratch->metadata;
  md.reset();
  // Every incoming metadata pair (§4.2), as grpc-go's FromIncomingContext has them: with
  // :authority and content-type, which marks the request as gRPC-originated (trace step).
  if (!md.add(":authority", req.authority) || !md.add("content-type", "application/grpc") ||
      !add_grpc_metadata(req.metadata, &md)) {
    return false;
  }
  // The Dapr keys (§5.2), exactly as the HTTP API adds them.
  if (!add_caller_metadata(md, s, app_id, self_call)) return false;
  codec::InternalInvokeRequestFields f;
  f.ver = 1;
  f.metadata = md.build();
  f.message.method = method;
  f.message.data = codec::AnyFields{v.message.data.type_url, v.message.data.value,
                                    v.message.data.present};
  f.message.content_type = v.message.content_type;
  f.message.has_http_extension = v.message.http_extension.present;
  f.message.verb = v.message.http_extension.verb;
  f.message.querystring = v.message.http_extension.querystring;
  return invocation_.encode_request(f);
}

void InvokeServiceCall::on_invocation_response(std::string_view bytes) {
  note_broadcast();
  if (!map_invoke_service_response(bytes, &answer_)) {
    fail_internal("malformed InternalInvokeResponse from the peer sidecar");
    return;
  }
  deliver();
}

void InvokeServiceCall::on_invocation_error(int grpc_code, std::string_view error_text) {
  note_broadcast();
  // Issue 10 (res): a Resiliency timeout answers DEADLINE_EXCEEDED (docs/resiliency.md).
  if (grpc_code == 4 && error_text == "context deadline exceeded") {
    shard::ShardCounters::bump(svc_->counters->invoke_errors);
    answer_.set_error(4, error_text);
    deliver();
    return;
  }
  fail_internal(error_text);
}

void InvokeServiceCall::note_broadcast() {
  if (invocation_.broadcast()) broadcast_trailer_ = invocation_.broadcast_instances();
}

void InvokeServiceCall::fail_internal(std::string_view error_text) {
  // daprd: status.Errorf(codes.Internal, "failed to invoke, id: %s, err: %v", id, err).
  shard::ShardCounters::bump(svc_->counters->invoke_errors);
  std::string_view id = target_.view();
  char msg[1536];
  int n = snprintf(msg, sizeof msg, "failed to invoke, id: %.*s, err: %.*s",
                   static_cast<int>(std::min<size_t>(id.size(), 256)), id.data(),
                   static_cast<int>(std::min<size_t>(error_text.size(), 1200)), error_text.data());
  answer_.set_error(13, std::string_view(msg, n > 0 ? std::min<size_t>(n, sizeof msg - 1) : 0));
  deliver();
}

void InvokeServiceCall::on_deadline(void* self) {
  auto* call = static_cast<InvokeServiceCall*>(self);
  call->invocation_.cancel();
  call->answer_.set_error(4, "context deadline exceeded");
  call->deliver();
}

void InvokeServiceCall::deliver() {
  if (answered_) return;
  answered_ = true;
  svc_->timers.cancel(&deadline_);
  if (broadcast_trailer_ >= 0) {
    // After the mapping (which resets the answer): how many instances the broadcast reached.
    char num[16];
    int n = snprintf(num, sizeof num, "%lld", static_cast<long long>(broadcast_trailer_));
    answer_.trailers.add("ringside-broadcast-instances", std::string_view(num, n > 0 ? n : 0));
  }
  std::span<const grpc::Metadata> headers, trailers;
  // A failure to materialize (no memory) leaves a list empty rather than the call unanswered.
  if (!answer_.headers.materialize(&headers)) headers = {};
  if (!answer_.trailers.materialize(&trailers)) trailers = {};
  // Issue 11: daprd's dapr_grpc_io_server_completed_rpcs / _server_latency for the API port.
  svc_->counters->dapr.note_fixed_grpc_served(shard::GrpcServedMethod::kInvokeService, answer_.code,
                                              shard::monotonic_ns() - received_ns_);
  host_->server().respond(id(), headers, answer_.code == 0 ? answer_.message.view()
                                                           : std::string_view(),
                          answer_.code, answer_.status_message, trailers);
  host_->flush();
  host_->release(this);  // destroyed at the end of the loop turn: start() may still be running
}

void InvokeServiceCall::on_inbound_cancelled() {
  invocation_.cancel();
  svc_->timers.cancel(&deadline_);
  answered_ = true;
}

// ---- GetMetadataResponse --------------------------------------------------------------------

namespace {
// Appends one length-delimited field holding `payload` (std::string: main thread only).
void put_len(std::string* out, uint32_t field, std::string_view payload) {
  uint8_t head[16];
  uint8_t* e = wire::write_len_header(field, payload.size(), head);
  out->append(reinterpret_cast<char*>(head), static_cast<size_t>(e - head));
  out->append(payload);
}
void put_varint(std::string* out, uint32_t field, uint64_t v) {
  if (v == 0) return;
  uint8_t buf[16];
  uint8_t* e = wire::write_varint_field(field, v, buf);
  out->append(reinterpret_cast<char*>(buf), static_cast<size_t>(e - buf));
}
void put_string(std::string* out, uint32_t field, std::string_view s) {
  if (!s.empty()) put_len(out, field, s);
}
}  // namespace

std::string encode_get_metadata_response(const MetadataInfo& info) {
  std::string out;
  put_string(&out, 1, info.app_id);
  std::string ext;  // extended_metadata entry: daprRuntimeVersion
  put_len(&ext, 1, "daprRuntimeVersion");
  put_len(&ext, 2, info.runtime_version);
  put_len(&out, 4, ext);
  if (info.has_app) {
    std::string app;
    put_varint(&app, 1, wire::int32_wire(info.app_port));
    put_string(&app, 2, info.app_protocol);
    put_string(&app, 3, info.channel_address);
    put_varint(&app, 4, wire::int32_wire(info.max_concurrency));
    if (info.has_health) {
      std::string health;
      put_string(&health, 1, info.health_check_path);
      put_string(&health, 2, info.health_probe_interval);
      put_string(&health, 3, info.health_probe_timeout);
      put_varint(&health, 4, wire::int32_wire(info.health_threshold));
      put_len(&app, 5, health);
    }
    put_len(&out, 7, app);
  }
  put_string(&out, 8, info.runtime_version);
  std::string actors;  // actor_runtime: DISABLED (1), no actors, host not ready
  put_varint(&actors, 1, 1);
  put_len(&out, 10, actors);
  return out;
}

}  // namespace ringside::invoke
