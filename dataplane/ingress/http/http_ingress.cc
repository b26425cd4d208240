#include "dataplane/ingress/http/http_ingress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "controlplane/snapshot/snapshot_registry.h"
#include "dataplane/grpc/status.h"
#include "dataplane/http1/canonical_header_key.h"
#include "dataplane/http1/reason_phrase.h"
#include "dataplane/http1/verb.h"
#include "dataplane/http1/writer.h"
#include "dataplane/mapping/api_token.h"
#include "dataplane/mapping/caller_metadata.h"
#include "dataplane/mapping/dapr_error.h"
#include "dataplane/mapping/metadata_headers.h"
#include "dataplane/mapping/header_rules.h"
#include "dataplane/ingress/http/http_hash_key.h"
#include "dataplane/mapping/invoke_scratch.h"
#include "dataplane/mapping/rpc_error_text.h"
#include "dataplane/runtime/accept_balancer.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/mem/pool_object.h"

namespace ringside::invoke {
namespace {

constexpr size_t kKeepBufferBytes = 256 * 1024;         // bigger buffers go back to the pool

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

HttpIngressConnection::HttpIngressConnection(ShardServices* svc)
    : svc_(svc), in_(svc->io.pool), invocation_(svc), target_(svc->io.pool), stream_call_(svc) {}

HttpIngressConnection::~HttpIngressConnection() {
  svc_->timers.cancel(&read_timer_);
  // Uncounts the connection from this shard's share (BalancedAcceptor counted it).
  if (svc_->http_balancer) svc_->http_balancer->release(svc_->shard_index);
}

bool HttpIngressConnection::accept(ShardServices* svc, int fd) {
  auto* h = mem::pool_new<HttpIngressConnection>(svc->io.pool, svc);
  if (!h) {
    ::close(fd);
    return false;
  }
  h->tcp_ = io::TcpConnection::adopt(&svc->io, fd, h);
  if (!h->tcp_) {  // adopt closed fd
    mem::pool_delete(svc->io.pool, h);
    return false;
  }
  shard::ShardCounters::bump(svc->counters->connections_open);
  svc->live.add(h);
  h->read_timer_.fn = &HttpIngressConnection::on_read_deadline;
  h->read_timer_.owner = h;
  h->arm_head_deadline(shard::monotonic_ns());  // a new connection owes its first head
  return true;
}

void HttpIngressConnection::arm_head_deadline(int64_t from_ns) {
  head_timed_ = true;
  const int64_t t = svc_->settings->http_header_timeout_ns;
  if (t > 0) {
    svc_->timers.arm(&read_timer_, from_ns + t);
  } else {
    svc_->timers.cancel(&read_timer_);
  }
}

void HttpIngressConnection::arm_body_deadline() {
  const int64_t t = svc_->settings->http_body_timeout_ns;
  if (t > 0) {
    svc_->timers.arm(&read_timer_, shard::monotonic_ns() + t);
  } else {
    svc_->timers.cancel(&read_timer_);
  }
}

void HttpIngressConnection::arm_idle_deadline() {
  head_timed_ = false;
  const int64_t t = svc_->settings->http_idle_timeout_ns;
  if (t > 0) {
    svc_->timers.arm(&read_timer_, shard::monotonic_ns() + t);
  } else {
    svc_->timers.cancel(&read_timer_);
  }
}

void HttpIngressConnection::on_read_deadline(void* self) {
  auto* h = static_cast<HttpIngressConnection*>(self);
  if (!h->tcp_ || h->tcp_->closing()) return;
  // Only the states that wait for the client are timed; a call in flight is the peer's.
  if (h->state_ == State::kHead && h->in_.empty() && !h->head_timed_) {
    shard::ShardCounters::bump(h->svc_->counters->http_idle_closed);
    h->tcp_->close();
    return;
  }
  if (h->state_ == State::kHead || h->state_ == State::kBody) {
    shard::ShardCounters::bump(h->svc_->counters->http_read_timeouts);
    h->fail_protocol(408);
  } else if (h->state_ == State::kStream) {
    // Issue 10: a streamed body stalled (armed only while the client owes bytes): cancel the
    // call toward the peer (which ends the app's request), 408 unless answering began, else close.
    shard::ShardCounters::bump(h->svc_->counters->http_read_timeouts);
    h->fail_request_body(408);
  }
}

void HttpIngressConnection::drain() {
  draining_ = true;
  // Between requests (or inside one whose call has not started): close. A call in flight
  // (kStream, kBusy) finishes first.
  if ((state_ == State::kHead || state_ == State::kBody) && tcp_) tcp_->close_after_flush();
}

void HttpIngressConnection::on_data(io::ByteStream&, std::span<const uint8_t> bytes) {
  if (!in_.append(bytes.data(), bytes.size())) {
    tcp_->close();
    return;
  }
  if (state_ == State::kStream) {
    pump_request_body();
  } else if (state_ != State::kBusy) {
    process();
  }
}

void HttpIngressConnection::on_drained(io::ByteStream&) {
  // A streamed answer waits for the client to read: everything written is out, take more.
  if (response_paused_) {
    response_paused_ = false;
    stream_call_.resume_response();
  }
}

void HttpIngressConnection::process() {
  // Iterative, so a run of pipelined requests answered synchronously does not recurse.
  in_process_ = true;
  struct Leave {
    bool* flag;
    ~Leave() { *flag = false; }
  } leave{&in_process_};
  while (tcp_ && !tcp_->closing() && (state_ == State::kHead || state_ == State::kBody)) {
    if (state_ == State::kHead) {
      if (in_.empty()) return;
      // Issue 11: ingress_parse and dapr_http_server_latency start at the request's first byte.
      if (request_start_ns_ == 0) request_start_ns_ = shard::monotonic_ns();
      auto st = http1::parse_request_head(in_.view(), svc_->settings->max_header_bytes, &head_);
      if (st == http1::ParseStatus::kIncomplete) {
        if (!head_timed_) arm_head_deadline(request_start_ns_);  // from its first byte
        return;
      }
      head_timed_ = false;
      if (st == http1::ParseStatus::kError) {
        fail_protocol(head_.error_status ? head_.error_status : 400);
        return;
      }
      parsed_at_ = in_.data();
      {  // Issue 11: daprd's method and (bounded) path labels, while the head's views are valid.
        shard::LabelWriter w{http_label_, sizeof http_label_};
        w.raw("method=\"");
        w.value(head_.method);
        w.raw("\",path=\"");
        w.value(shard::bounded_http_path(head_.path));
        w.raw("\"");
        http_label_len_ = w.ok ? static_cast<uint16_t>(w.len) : 0;
      }
      keep_alive_ = head_.keep_alive && !draining_;
      head_minor_version_ = head_.minor_version;
      head_method_ = head_.method == "HEAD";
      continue_sent_ = false;
      chunked_.reset();
      if (!api_token_accepted()) {
        // daprd's answer, before any body is read; a request with a body ends the connection.
        keep_alive_ = keep_alive_ && head_.body_kind == http1::BodyKind::kNone;
        state_ = State::kBusy;
        request_size_ = head_.head_size;
        respond_simple(401, "text/plain; charset=utf-8", "invalid api token\n");
        finish_request();
        return;
      }
      if (head_.body_kind == http1::BodyKind::kLength &&
          head_.content_length > svc_->settings->max_body_size) {
        // We will not read the body, so the connection cannot be reused.
        keep_alive_ = false;
        state_ = State::kBusy;
        respond_dapr_error(413, "ERR_BODY_TOO_LARGE",
                           "request body exceeds the max body size (--max-body-size)");
        finish_request();
        return;
      }
      state_ = State::kBody;
      lookup_deadline_ = 0;
      if (wants_streaming() && begin_stream()) return;
    }
    if (!body_complete()) {
      if (state_ == State::kBody) {
        arm_body_deadline();  // more body bytes are owed
        reserve_body_room();
      }
      if (state_ == State::kBody && head_.expect_continue && !continue_sent_) {
        continue_sent_ = true;
        tcp_->out().append("HTTP/1.1 100 Continue\r\n\r\n");
        tcp_->flush();
      }
      return;
    }
    state_ = State::kBusy;
    if (in_.data() != parsed_at_) {
      // The buffer moved while the body arrived: refresh the head's views.
      http1::parse_request_head(in_.view(), svc_->settings->max_header_bytes, &head_);
      parsed_at_ = in_.data();
    }
    svc_->counters->stages.record(shard::Stage::kIngressParse, shard::monotonic_ns() - request_start_ns_);  // issue 11
    dispatch();
  }
}

void HttpIngressConnection::reserve_body_room() {
  // Growing by doubling as a declared body arrives copied a 1 MiB body about twice more
  // (issue 11). Room in steps of 8 times what arrived, never past the declaration, takes few
  // copies while memory held stays bounded by bytes received (a Content-Length is a claim).
  // process() re-parses the head should this move the bytes.
  if (head_.body_kind != http1::BodyKind::kLength) return;
  const size_t have = in_.size() - head_.head_size;
  const size_t left = head_.content_length - have;
  if (in_.tail_room() >= left) return;
  const size_t step = std::max<size_t>(have, 4096) * 8;
  in_.reserve(std::min(left, step));
}

bool HttpIngressConnection::body_complete() {
  size_t head_size = head_.head_size;
  switch (head_.body_kind) {
    case http1::BodyKind::kNone:
    case http1::BodyKind::kUntilClose:
      body_size_ = 0;
      request_size_ = head_size;
      return true;
    case http1::BodyKind::kLength:
      if (in_.size() - head_size < head_.content_length) return false;
      body_size_ = head_.content_length;
      request_size_ = head_size + head_.content_length;
      return true;
    case http1::BodyKind::kChunked: {
      auto st = chunked_.decode(in_.data() + head_size, in_.size() - head_size,
                                svc_->settings->max_body_size);
      if (st == http1::ParseStatus::kIncomplete) return false;
      if (st == http1::ParseStatus::kError) {
        state_ = State::kBusy;
        keep_alive_ = false;
        if (chunked_.error_status() == 413) {
          respond_dapr_error(413, "ERR_BODY_TOO_LARGE",
                             "request body exceeds the max body size (--max-body-size)");
          finish_request();
        } else {
          fail_protocol(400);
        }
        return false;
      }
      body_size_ = chunked_.payload_size();
      request_size_ = head_size + chunked_.consumed();
      return true;
    }
  }
  return false;
}

bool HttpIngressConnection::api_token_accepted() const {
  const std::string_view expected = svc_->settings->dapr_api_token;
  if (expected.empty()) return true;
  if (head_.method == "GET" && (head_.path == "/v1.0/healthz" || head_.path == "/v1.0/healthz/outbound")) {
    return true;
  }
  const http1::Header* h = head_.find(kApiTokenKey);
  const std::string_view presented = h ? h->value : std::string_view{};
  return check_api_token(expected, h ? &presented : nullptr) == TokenCheck::kOk;
}

void HttpIngressConnection::dispatch() {
  std::string_view path = head_.path;
  bool get = head_.method == "GET";
  if (path == "/v1.0/healthz" && get) {
    // ?appid=<id> must match ours (the Consul check uses it).
    std::string_view q = head_.query;
    size_t at = q.find("appid=");
    if (at != std::string_view::npos && (at == 0 || q[at - 1] == '&')) {
      std::string_view id = q.substr(at + 6);
      id = id.substr(0, id.find('&'));
      if (id != svc_->settings->app_id) {
        respond_dapr_error(500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match");
        finish_request();
        return;
      }
    }
    respond_simple(204, {}, {});
    finish_request();
    return;
  }
  if (path == "/v1.0/healthz/outbound" && get) {
    respond_simple(204, {}, {});
    finish_request();
    return;
  }
  if (path == "/v1.0/metadata" && get) {
    respond_simple(200, "application/json", svc_->settings->metadata_json);
    finish_request();
    return;
  }
  invoke();
}

bool HttpIngressConnection::build_request_fields(const InvokeTarget& t, bool self_call,
                                                 std::string_view body,
                                                 codec::InternalInvokeRequestFields* out) {
  const SidecarSettings& s = *svc_->settings;
  MetadataBuilder& md = svc_->scratch->metadata;
  md.reset();
  // Every request header under its canonical key (§5.1), minus Host and Transfer-Encoding (Go's
  // server keeps neither in the header map) and the dapr-app-id header used for routing.
  for (size_t i = 0; i < head_.header_count; ++i) {
    std::string_view name = head_.headers[i].name;
    if (iequals(name, "host") || iequals(name, "transfer-encoding")) continue;
    // Answered here (100 Continue); the app's own server must not wait to answer it again.
    if (iequals(name, "expect")) continue;
    if (t.from_header && iequals(name, "dapr-app-id")) continue;
    char* key = md.reserve_text(name.size());
    if (!key) return false;
    if (!md.add(http1::canonical_header_key(name, std::span<char>(key, name.size())),
                head_.headers[i].value)) {
      return false;
    }
  }
  if (!add_caller_metadata(md, s, t.app_id, self_call)) return false;
  codec::InternalInvokeRequestFields& f = *out;
  f.ver = 1;
  f.metadata = md.build();
  f.message.method = t.method;
  f.message.data.value = body;
  const http1::Header* ct = head_.find("content-type");
  if (ct) f.message.content_type = ct->value;
  f.message.has_http_extension = true;
  f.message.verb = static_cast<int32_t>(http1::verb_from_method(head_.method));
  f.message.querystring = head_.query;
  return true;
}

void HttpIngressConnection::invoke() {
  shard::ShardCounters::bump(svc_->counters->invoke_requests);
  InvokeScratch* sc = svc_->scratch;
  InvokeTarget t;
  TargetError e = extract_invoke_target(head_, std::span<char>(sc->path, sc->path_size), &t);
  switch (e) {
    case TargetError::kNone:
      break;
    case TargetError::kNoTarget:
      respond_dapr_error(404, kErrDirectInvoke,
                         "failed getting app id either from the URL path or the header dapr-app-id");
      finish_request();
      return;
    case TargetError::kInvalidAppId:
    case TargetError::kInvalidMethod: {
      target_.clear();
      target_.append(t.target);
      char msg[512];
      int n = e == TargetError::kInvalidAppId
                  ? snprintf(msg, sizeof msg, "invalid app id %.*s", static_cast<int>(t.target.size()), t.target.data())
                  : snprintf(msg, sizeof msg, "rpc error: code = InvalidArgument desc = invalid method: %.*s",
                             static_cast<int>(t.method.size()), t.method.data());
      respond_invoke_error(500, std::string_view(msg, n > 0 ? std::min<size_t>(n, sizeof msg - 1) : 0));
      finish_request();
      return;
    }
    case TargetError::kBadPath:
    case TargetError::kScratchTooSmall:
      fail_protocol(400);
      return;
  }
  target_.clear();
  if (!target_.append(t.app_id)) {
    fail_protocol(500);
    return;
  }
  if (t.is_external_url) {
    respond_invoke_error(500, "invoking external URLs is not supported by ringside yet");
    finish_request();
    return;
  }
  const SidecarSettings& s = *svc_->settings;
  bool self_call = t.app_id == s.app_id && (!t.has_namespace || t.app_namespace == s.app_namespace);
  std::string_view body = in_.view().substr(head_.head_size, body_size_);
  codec::InternalInvokeRequestFields fields;
  // The body stays in in_ (issue 11): it goes to the peer from there, and in_ keeps it until
  // finish_request(), after the outcome.
  if (!build_request_fields(t, self_call, body, &fields) ||
      !invocation_.encode_request_leaving_body(fields, in_)) {
    respond_dapr_error(431, "ERR_DIRECT_INVOKE", "request headers too large");
    keep_alive_ = false;
    finish_request();
    return;
  }
  invocation_.set_hash_key(http_hash_key(svc_, t.app_id, t.app_namespace, head_));
  // A chunked (unknown-length) request is not replayable: no built-in retry (spec §4.1).
  invocation_.start(t.app_id, t.app_namespace, self_call,
                    head_.body_kind != http1::BodyKind::kChunked, this);
}

void HttpIngressConnection::on_invocation_response(std::string_view internal_invoke_response) {
  response_ready_ns_ = shard::monotonic_ns();  // issue 11: response_write starts
  broadcast_header_ = invocation_.broadcast() ? static_cast<int64_t>(invocation_.broadcast_instances()) : -1;
  respond_invoke(internal_invoke_response);
  finish_request();
}

void HttpIngressConnection::on_invocation_error(int grpc_code, std::string_view error_text) {
  response_ready_ns_ = shard::monotonic_ns();  // issue 11: response_write starts
  broadcast_header_ = invocation_.broadcast() ? static_cast<int64_t>(invocation_.broadcast_instances()) : -1;
  respond_invoke_error(grpc_code == 7 ? 403 : 500, error_text);
  finish_request();
}

void HttpIngressConnection::respond_invoke(std::string_view bytes) {
  codec::InternalInvokeResponseView r;
  if (!codec::decode_internal_invoke_response(bytes, &r)) {
    respond_invoke_error(500, "malformed InternalInvokeResponse from the peer sidecar");
    return;
  }
  bool body_follows = false;
  if (!write_invoke_head(r, /*stream_body=*/false, r.message.data.value, &body_follows)) {
    tcp_->close();
    return;
  }
  tcp_->flush();
}

bool HttpIngressConnection::write_invoke_head(const codec::InternalInvokeResponseView& r,
                                              bool stream_body, std::string_view body,
                                              bool* body_follows) {
  *body_follows = false;
  int code = r.status.code;
  int status;
  mem::Buffer& out = tcp_->out();
  if (code >= 100) {
    status = code;
  } else if (code == 0) {
    status = 200;
  } else {
    status = grpc::http_status_from_grpc(code);
  }
  response_status_ = status;  // issue 11: dapr_http_server_* status label
  bool ok = http1::append_status_line(out, status);
  // Response headers (§5.3), canonical keys as Go's HTTP server writes them.
  ok = ok && append_metadata_as_http_headers(out, [&](auto&& f) { r.for_each_header(f); });
  ok = ok && append_broadcast_header(out);
  const bool grpc_error = code > 0 && code < 100;
  if (grpc_error) {
    // gRPC app error: protobuf-JSON of the Status (§5.6); details are not rendered yet.
    mem::Buffer& json = svc_->scratch->json;
    json.clear();
    char num[16];
    int n = snprintf(num, sizeof num, "%d", code);
    ok = ok && json.append("{\"code\":") && json.append(num, static_cast<size_t>(n)) &&
         json.append(",\"message\":\"") && append_json_escaped(&json, r.status.message) &&
         json.append("\",\"details\":[]}");
    body = json.view();
    stream_body = false;  // the answer is the status; body bytes, if any, are not shown
  } else {
    std::string_view ctype = r.message.content_type;
    if (!r.message.data.type_url.empty()) ctype = "application/x-protobuf";
    if (!ctype.empty()) {
      ok = ok && http1::append_header(out, "Content-Type", ctype) != http1::AppendHeader::kNoMemory;
    }
  }
  const bool has_body = status_has_body(status);
  if (has_body && stream_body) {
    // The length is not known yet: chunked for HTTP/1.1, until-close for HTTP/1.0 clients.
    if (head_minor_version_ >= 1) {
      ok = ok && out.append("Transfer-Encoding: chunked\r\n");
    } else {
      keep_alive_ = false;
    }
  }
  if (!keep_alive_) ok = ok && out.append("Connection: close\r\n");
  if (has_body && !stream_body) ok = ok && http1::append_content_length(out, body.size());
  ok = ok && http1::append_end_of_head(out);
  if (has_body && !head_method_) {
    if (stream_body) {
      *body_follows = true;
    } else {
      ok = ok && out.append(body);
    }
  }
  return ok;
}

bool HttpIngressConnection::append_broadcast_header(mem::Buffer& out) const {
  if (broadcast_header_ < 0) return true;
  char num[16];
  int n = snprintf(num, sizeof num, "%lld", static_cast<long long>(broadcast_header_));
  return http1::append_header(out, "Ringside-Broadcast-Instances", std::string_view(num, n > 0 ? n : 0)) ==
         http1::AppendHeader::kOk;
}

void HttpIngressConnection::respond_simple(int status, std::string_view content_type,
                                           std::string_view body) {
  mem::Buffer& out = tcp_->out();
  response_status_ = status;  // issue 11: dapr_http_server_* status label
  bool ok = http1::append_status_line(out, status);
  if (!content_type.empty()) {
    ok = ok && http1::append_header(out, "Content-Type", content_type) == http1::AppendHeader::kOk;
  }
  ok = ok && append_broadcast_header(out);
  if (!keep_alive_) ok = ok && out.append("Connection: close\r\n");
  if (status_has_body(status)) ok = ok && http1::append_content_length(out, body.size());
  ok = ok && http1::append_end_of_head(out);
  if (status_has_body(status) && !head_method_) ok = ok && out.append(body);
  if (!ok) {
    tcp_->close();
    return;
  }
  tcp_->flush();
}

void HttpIngressConnection::respond_dapr_error(int status, std::string_view code,
                                               std::string_view message) {
  mem::Buffer& json = svc_->scratch->json;
  json.clear();
  if (!append_dapr_error_json(&json, code, message)) {
    tcp_->close();
    return;
  }
  shard::ShardCounters::bump(svc_->counters->invoke_errors);
  respond_simple(status, "application/json", json.view());
}

void HttpIngressConnection::respond_invoke_error(int status, std::string_view error_text) {
  std::string_view app_id = target_id();
  char* msg = svc_->scratch->text;
  int n = snprintf(msg, sizeof svc_->scratch->text, "failed to invoke, id: %.*s, err: %.*s",
                   static_cast<int>(app_id.size()), app_id.data(),
                   static_cast<int>(error_text.size()), error_text.data());
  size_t len = n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof svc_->scratch->text - 1) : 0;
  respond_dapr_error(status, kErrDirectInvoke, std::string_view(msg, len));
}

void HttpIngressConnection::fail_protocol(int status) {
  // Malformed HTTP: answer like Go's server (plain text, close), then stop reading.
  state_ = State::kBusy;
  keep_alive_ = false;
  char body[64];
  std::string_view reason = http1::reason_phrase(status);
  int n = snprintf(body, sizeof body, "%d %.*s", status, static_cast<int>(reason.size()), reason.data());
  mem::Buffer& out = tcp_->out();
  bool ok = http1::append_status_line(out, status) &&
            out.append("Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n") &&
            http1::append_content_length(out, static_cast<size_t>(n)) &&
            http1::append_end_of_head(out) && out.append(body, static_cast<size_t>(n));
  if (!ok) {
    tcp_->close();
    return;
  }
  tcp_->close_after_flush();
}

void HttpIngressConnection::note_http_served() {
  // Issue 11: one clock read when the answer is handed to the socket: response_write (for an
  // invocation's answer) and daprd's dapr_http_server_request_count / _latency.
  const int64_t now = shard::monotonic_ns();
  if (response_ready_ns_ != 0) svc_->counters->stages.record(shard::Stage::kResponseWrite, now - response_ready_ns_);
  char key[shard::kServerLabelMax];
  shard::LabelWriter w{key, sizeof key};
  w.raw(std::string_view(http_label_, http_label_len_));
  // The status as three digits (HTTP statuses are 100..599; anything else shows as 000).
  const int st = response_status_ >= 100 && response_status_ <= 999 ? response_status_ : 0;
  const char num[3] = {static_cast<char>('0' + st / 100), static_cast<char>('0' + st / 10 % 10),
                       static_cast<char>('0' + st % 10)};
  w.raw(",status=\"");
  w.raw(std::string_view(num, 3));
  w.raw("\"");
  shard::ServerRow& row = svc_->counters->dapr.http.row(http_label_len_ ? w.view() : shard::kOverflowLabel);
  shard::bump_relaxed(row.count);
  if (request_start_ns_ != 0) row.latency.record_ns(now - request_start_ns_);
  request_start_ns_ = response_ready_ns_ = 0;
  http_label_len_ = 0;
  response_status_ = 0;
}

void HttpIngressConnection::finish_request() {
  shard::ShardCounters::bump(svc_->counters->http_requests);
  note_http_served();  // issue 11
  in_.consume(request_size_);
  request_size_ = 0;
  state_ = State::kHead;
  invocation_.recycle(kKeepBufferBytes);
  stream_call_.recycle(kKeepBufferBytes);
  response_started_ = response_body_ = response_chunked_ = response_paused_ = false;
  broadcast_header_ = -1;
  tcp_->resume_recv();  // a streamed body may have paused it
  if (!keep_alive_ || draining_) {
    state_ = State::kBusy;  // read nothing more
    tcp_->close_after_flush();
    return;
  }
  if (in_.empty()) in_.clear_keeping(kKeepBufferBytes);
  if (in_.empty()) {
    arm_idle_deadline();
  } else {
    arm_head_deadline(shard::monotonic_ns());  // a pipelined head has begun
  }
  if (!in_process_) process();  // pipelined requests that arrived meanwhile
}

void HttpIngressConnection::on_closed(io::ByteStream&, int) {
  tcp_ = nullptr;
  svc_->timers.cancel(&read_timer_);
  shard::ShardCounters::drop(svc_->counters->connections_open);
  invocation_.cancel();
  stream_call_.cancel();
  svc_->parked->unpark(this);
  svc_->live.remove(this);
  svc_->deferred->release(this);
}

}  // namespace ringside::invoke
