#include "dataplane/invoke/callee_request.h"
#include "dataplane/invoke/call_local_stream.h"

#include <algorithm>
#include <cstdio>

#include "dataplane/codec/stream_messages.h"
#include "dataplane/codec/wire.h"
#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/stream_flow.h"
#include "dataplane/http1/method_normalize.h"
#include "dataplane/invoke/grpc_ingress.h"
#include "dataplane/invoke/shard_services.h"
#include "dataplane/invoke/sidecar_settings.h"
#include "dataplane/mem/pool_object.h"

namespace ringside::invoke {
namespace {
// Status texts of daprd's CallLocalStream (spec §2.3), so callers see the same errors.
constexpr std::string_view kLeadingChunkError =
    "parsing InternalInvokeRequest error: request does not contain the required fields in the "
    "leading chunk";
constexpr std::string_view kNonLeadingRequestError = "request metadata found in non-leading chunk";

constexpr int kInvalidArgument = 3;
constexpr int kDeadlineExceeded = 4;
constexpr int kResourceExhausted = 8;
constexpr int kUnimplemented = 12;
constexpr int kInternal = 13;

std::string_view formatted(char* buf, int n, size_t cap) {
  return std::string_view(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), cap - 1) : 0);
}
}  // namespace

CallLocalStream::CallLocalStream(ShardServices* svc, GrpcIngressConnection* in, grpc::CallId id)
    : svc_(svc),
      in_(in),
      id_(id),
      // The same per-message limit as unary calls on this connection (body + head room).
      reader_(svc->io.pool, static_cast<uint32_t>(std::min<uint64_t>(
                                svc->settings->max_body_size + 4096, UINT32_MAX))),
      head_(svc->io.pool),
      body_(svc->io.pool),
      method_(svc->io.pool),
      resp_(svc->io.pool),
      out_(svc->io.pool) {
  deadline_.fn = &CallLocalStream::on_deadline;
  deadline_.owner = this;
}

CallLocalStream* CallLocalStream::start(ShardServices* svc, GrpcIngressConnection* in,
                                        const grpc::StreamStart& s) {
  shard::ShardCounters::bump(svc->counters->calllocal_served);
  auto* call = mem::pool_new<CallLocalStream>(svc->io.pool, svc, in, s.id);
  if (!call) {
    in->server().send_trailers(s.id, kResourceExhausted, "out of memory", {});
    return nullptr;
  }
  // The caller's deadline covers the whole exchange, as for a Go gRPC server.
  if (s.timeout_ns > 0) svc->timers.arm(&call->deadline_, shard::monotonic_ns() + s.timeout_ns);
  return call;
}

void CallLocalStream::on_data(std::span<const uint8_t> bytes) {
  // Everything received is buffered (bounded by the limits below): reopen the window now.
  in_->server().consume(id_, bytes.size());
  if (state_ != State::kReceiving) return;  // bytes after half-close cannot come; be safe
  // Each round takes at least one byte (a message has a 5-byte prefix) or returns.
  const size_t rounds = bytes.size();
  for (size_t round = 0; round <= rounds; ++round) {
    std::string_view message;
    switch (reader_.next(&bytes, &message)) {
      case grpc::MessageStreamReader::Result::kNeedMore:
        return;
      case grpc::MessageStreamReader::Result::kError:
        fail_framing();
        return;
      case grpc::MessageStreamReader::Result::kMessage:
        if (!on_message(message)) return;  // answered (freed)
        break;
    }
  }
}

bool CallLocalStream::on_message(std::string_view message) {
  codec::InternalInvokeRequestStreamView chunk;
  if (!codec::decode_internal_invoke_request_stream(message, &chunk)) {
    finish(kInvalidArgument, "parsing InternalInvokeRequest error: malformed message");
    return false;
  }
  if (!have_head_) {
    // A proto3 map with no entries is absent for a Go receiver: daprd requires at least one.
    if (!chunk.has_request || chunk.request.metadata_entries == 0 || !chunk.request.has_message) {
      finish(kInvalidArgument, kLeadingChunkError);
      return false;
    }
    // The message bytes live only during this DATA callback: keep our own copy for the view.
    if (!head_.append(message)) {
      finish(kResourceExhausted, "out of memory");
      return false;
    }
    have_head_ = true;
  } else if (chunk.has_request) {
    finish(kInvalidArgument, kNonLeadingRequestError);
    return false;
  }
  if (!chunk.payload.present) return true;
  if (chunk.payload.seq != next_seq_) {
    char msg[128];
    int n = snprintf(msg, sizeof msg, "invalid sequence number received: %llu (expected: %llu)",
                     static_cast<unsigned long long>(chunk.payload.seq),
                     static_cast<unsigned long long>(next_seq_));
    finish(kInvalidArgument, formatted(msg, n, sizeof msg));
    return false;
  }
  ++next_seq_;
  const uint64_t max = svc_->settings->max_body_size;
  if (chunk.payload.data.size() > max - std::min<uint64_t>(body_.size(), max)) {
    char msg[128];
    int n = snprintf(msg, sizeof msg, "request body larger than the maximum of %llu bytes",
                     static_cast<unsigned long long>(max));
    finish(kResourceExhausted, formatted(msg, n, sizeof msg));
    return false;
  }
  if (!body_.append(chunk.payload.data)) {
    finish(kResourceExhausted, "out of memory");
    return false;
  }
  return true;
}

void CallLocalStream::on_half_close() {
  if (state_ != State::kReceiving) return;
  if (!reader_.finish()) {
    fail_framing();
    return;
  }
  if (!have_head_) {  // no message at all
    finish(kInvalidArgument, kLeadingChunkError);
    return;
  }
  reader_.reset();  // its storage is not needed any more
  invoke_app();
}

void CallLocalStream::invoke_app() {
  codec::InternalInvokeRequestStreamView chunk;
  codec::decode_internal_invoke_request_stream(head_.view(), &chunk);  // validated on arrival
  view_ = chunk.request;
  // The body travelled as payloads; the app channel takes it from message.data.value.
  view_.message.data.value = body_.view();
  if (!body_.empty()) view_.message.data.present = true;
  char text[512];
  std::string_view error;
  if (int code = check_request_for_app(&view_, svc_->app != nullptr, &method_, text, &error)) {
    finish(code, error);
    return;
  }
  state_ = State::kInvoking;
  in_invoke_ = true;
  AppCall* call = svc_->app->invoke(view_, this);
  in_invoke_ = false;
  if (state_ == State::kDone) {  // answered inside invoke(): release() was deferred
    release();
    return;
  }
  if (state_ == State::kInvoking) app_call_ = call;  // else it completed synchronously
}

void CallLocalStream::on_app_response(std::string_view internal_invoke_response) {
  app_call_ = nullptr;
  if (state_ != State::kInvoking) return;
  // The request is delivered: give its memory back before holding the response.
  body_.release();
  head_.release();
  method_.release();
  view_ = {};
  // The response bytes are valid during this callback only.
  codec::InternalInvokeResponseView r;
  if (!resp_.append(internal_invoke_response)) {
    finish(kResourceExhausted, "out of memory");
    return;
  }
  if (!codec::decode_internal_invoke_response(resp_.view(), &r)) {
    finish(kInternal, "error invoking app channel: malformed response");
    return;
  }
  resp_body_ = r.message.data.value;
  if (!encode_head(r) || !in_->server().send_data(id_, out_.span())) {
    reset_call();
    return;
  }
  state_ = State::kSending;
  send_more();
}

bool CallLocalStream::encode_head(const codec::InternalInvokeResponseView& r) {
  namespace wire = codec::wire;
  // Message 1 is the response as the app channel built it, minus the body bytes: every field
  // except `message` (4) is copied as it is (status, headers, trailers, unknown fields), then
  // `message` is written again with content_type and data.type_url only (spec §2.3).
  codec::InvokeResponseFields message;
  message.content_type = r.message.content_type;
  message.data.type_url = r.message.data.type_url;
  message.data.present = !r.message.data.type_url.empty();
  const size_t message_size = codec::encoded_size(message);

  const std::string_view all = resp_.view();
  // Calls f(raw field bytes) for every top-level field but `message`; false if malformed.
  auto for_each_kept = [&](auto&& f) {
    wire::Reader rd(all);
    for (size_t guard = 0; !rd.at_end() && guard <= all.size(); ++guard) {
      size_t start = all.size() - rd.remaining();
      uint32_t field;
      wire::WireType wt;
      if (!rd.read_tag(&field, &wt) || !rd.skip(field, wt, 0)) return false;
      size_t end = all.size() - rd.remaining();
      if (field != 4) f(all.substr(start, end - start));
    }
    return true;
  };
  size_t kept = 0;
  if (!for_each_kept([&](std::string_view raw) { kept += raw.size(); })) return false;
  const size_t response_size = kept + wire::len_field_size(4, message_size);
  const size_t stream_size = wire::len_field_size(1, response_size);
  out_.clear();
  if (stream_size > UINT32_MAX || !out_.reserve(grpc::kMessagePrefixSize + stream_size)) {
    return false;
  }
  uint8_t* p = out_.tail();
  grpc::write_message_prefix(static_cast<uint32_t>(stream_size), p);
  p += grpc::kMessagePrefixSize;
  p = wire::write_len_header(1, response_size, p);
  for_each_kept([&](std::string_view raw) {
    std::memcpy(p, raw.data(), raw.size());
    p += raw.size();
  });
  p = wire::write_len_header(4, message_size, p);
  p = codec::encode(message, p);
  out_.commit(static_cast<size_t>(p - out_.tail()));
  return true;
}

bool CallLocalStream::send_more() {
  grpc::GrpcServerConnection& server = in_->server();
  // Bounded by the body size / kChunkBytes, and paused at the high watermark.
  while (resp_sent_ < resp_body_.size() && server.queued_bytes(id_) < grpc::kStreamHighWatermark) {
    const size_t n = std::min(kChunkBytes, resp_body_.size() - resp_sent_);
    codec::InternalInvokeResponseStreamFields chunk;
    chunk.has_payload = true;
    chunk.payload.data = resp_body_.substr(resp_sent_, n);
    chunk.payload.seq = resp_seq_;
    const size_t size = codec::encoded_size(chunk);
    out_.clear();
    if (!out_.reserve(grpc::kMessagePrefixSize + size)) {
      finish(kResourceExhausted, "out of memory");
      return false;
    }
    grpc::write_message_prefix(static_cast<uint32_t>(size), out_.tail());
    uint8_t* end = codec::encode(chunk, out_.tail() + grpc::kMessagePrefixSize);
    out_.commit(static_cast<size_t>(end - out_.tail()));
    if (!server.send_data(id_, out_.span())) {
      reset_call();
      return false;
    }
    resp_sent_ += n;
    ++resp_seq_;
  }
  if (resp_sent_ == resp_body_.size()) {
    finish(0, {});
    return false;
  }
  if (!in_writable_) in_->pump();  // the rest follows on_writable()
  return true;
}

void CallLocalStream::on_writable() {
  if (state_ != State::kSending) return;
  // Inside the connection's flush: it sends what we queue in its next round, so no pump.
  in_writable_ = true;
  if (send_more()) in_writable_ = false;  // false: freed, touch nothing
}

void CallLocalStream::on_app_error(int grpc_code, std::string_view message) {
  app_call_ = nullptr;
  if (state_ != State::kInvoking) return;
  finish(grpc_code, message);
}

void CallLocalStream::on_deadline(void* self) {
  auto* call = static_cast<CallLocalStream*>(self);
  if (call->app_call_ && call->svc_->app) call->svc_->app->cancel(call->app_call_);
  call->app_call_ = nullptr;
  call->finish(kDeadlineExceeded, "context deadline exceeded");
}

void CallLocalStream::on_cancelled() {
  if (app_call_ && svc_->app) svc_->app->cancel(app_call_);
  app_call_ = nullptr;
  svc_->timers.cancel(&deadline_);
  state_ = State::kDone;
  release();
}

void CallLocalStream::fail_framing() {
  grpc::FramingError e = reader_.error();
  int code = kInternal;
  if (e == grpc::FramingError::kTooLarge || e == grpc::FramingError::kNoMemory) {
    code = kResourceExhausted;
  } else if (e == grpc::FramingError::kCompressed) {
    code = kUnimplemented;
  }
  finish(code, grpc::framing_error_text(e));
}

void CallLocalStream::finish(int grpc_status, std::string_view grpc_message) {
  svc_->timers.cancel(&deadline_);
  state_ = State::kDone;
  GrpcIngressConnection* in = in_;
  const bool pump = !in_writable_;  // inside the connection's flush: it sends them itself
  in->server().send_trailers(id_, grpc_status, grpc_message, {});
  release();
  if (pump) in->pump();  // a no-op while feed() is on the stack; it pumps afterwards
}

void CallLocalStream::reset_call() {
  svc_->timers.cancel(&deadline_);
  state_ = State::kDone;
  GrpcIngressConnection* in = in_;
  const bool pump = !in_writable_;
  in->server().cancel(id_, NGHTTP2_INTERNAL_ERROR);  // no on_call_cancelled() follows
  release();
  if (pump) in->pump();
}

void CallLocalStream::release() {
  if (in_invoke_) return;  // invoke_app() frees us once invoke() returned
  in_->release_local_stream(this);
}

}  // namespace ringside::invoke
