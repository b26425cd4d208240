#include "dataplane/callee/call_local_stream.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "dataplane/codec/stream_messages.h"
#include "dataplane/codec/wire.h"
#include "dataplane/grpc/framing.h"
#include "dataplane/grpc/stream_flow.h"
#include "dataplane/http1/number.h"
#include "dataplane/appchannel/buffered_app_stream.h"
#include "dataplane/callee/callee_request.h"
#include "dataplane/mapping/header_rules.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/runtime/sidecar_settings.h"
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
constexpr int kInternal = 13;

std::string_view formatted(char* buf, int n, size_t cap) {
  return std::string_view(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), cap - 1) : 0);
}

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The first value of the "content-length" metadata key (any case) as a size; -1 when absent or
// not a number. daprd's HTTP channel frames the app request the same way (spec §4.4).
int64_t declared_body_length(const codec::InternalInvokeRequestView& v) {
  bool seen = false;
  int64_t length = -1;
  v.for_each_metadata([&](std::string_view key, std::string_view value) {
    if (seen || !iequals(key, "content-length")) return;
    seen = true;
    uint64_t n;
    if (http1::parse_decimal_u64(value, &n) && n <= static_cast<uint64_t>(INT64_MAX)) {
      length = static_cast<int64_t>(n);
    }
  });
  return length;
}

// Verbs whose requests usually have no body (Go's requestMethodUsuallyLacksBody): GET, HEAD,
// DELETE, OPTIONS.
bool verb_usually_lacks_body(int32_t verb) { return verb == 1 || verb == 2 || verb == 5 || verb == 7; }
}  // namespace

CallLocalStream::CallLocalStream(ShardServices* svc, grpc::CallHost* in, grpc::CallId id)
    : grpc::ServedCall(id),
      svc_(svc),
      in_(in),
      // The same per-message limit as unary calls on this connection (body + head room).
      reader_(svc->io.pool, static_cast<uint32_t>(std::min<uint64_t>(
                                svc->settings->max_body_size + 4096, UINT32_MAX))),
      head_(svc->io.pool),
      method_(svc->io.pool),
      out_(svc->io.pool) {
  deadline_.fn = &CallLocalStream::on_deadline;
  deadline_.owner = this;
}

CallLocalStream* CallLocalStream::start(ShardServices* svc, grpc::CallHost* in,
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

// ---- request ----------------------------------------------------------------------------

void CallLocalStream::on_inbound_data(std::span<const uint8_t> bytes) {
  std::span<const uint8_t> rest = bytes;
  // Each round takes at least one byte (a message has a 5-byte prefix) or returns.
  for (size_t round = 0; state_ != State::kDone && round <= bytes.size(); ++round) {
    std::string_view message;
    auto r = reader_.next(&rest, &message);
    if (r == grpc::MessageStreamReader::Result::kNeedMore) break;
    if (r == grpc::MessageStreamReader::Result::kError) {
      fail_framing();
      break;
    }
    if (!on_message(message)) break;  // answered
  }
  // Reopen the caller's window, unless the app channel holds a watermark of request bytes not
  // yet written to the app: then on_app_request_writable() reopens it.
  if (state_ != State::kDone && app_call_ &&
      channel_->request_queued(app_call_) >= grpc::kStreamHighWatermark) {
    unconsumed_ += bytes.size();
  } else {
    in_->server().consume(id(), bytes.size());
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
    if (!accept_head(message)) return false;
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
  if (chunk.payload.data.size() > max - std::min<uint64_t>(body_received_, max)) {
    char msg[128];
    int n = snprintf(msg, sizeof msg, "request body larger than the maximum of %llu bytes",
                     static_cast<unsigned long long>(max));
    finish(kResourceExhausted, formatted(msg, n, sizeof msg));
    return false;
  }
  body_received_ += chunk.payload.data.size();
  return forward_payload(chunk.payload.data);
}

bool CallLocalStream::accept_head(std::string_view message) {
  // The message bytes live only during this DATA callback: keep our own copy for the view,
  // which the app channel reads until the call ends.
  if (!head_.append(message)) {
    finish(kResourceExhausted, "out of memory");
    return false;
  }
  have_head_ = true;
  codec::InternalInvokeRequestStreamView chunk;
  codec::decode_internal_invoke_request_stream(head_.view(), &chunk);  // validated by the caller
  view_ = chunk.request;
  // The body travels as payloads; the leading chunk's data carries at most a type_url.
  view_.message.data.value = {};
  view_.message.data.present = !view_.message.data.type_url.empty();
  char text[512];
  std::string_view error;
  if (int code = check_request_for_app(&view_, *svc_->settings, svc_->app != nullptr, in_->caller_identity(),
                                       &method_, text, &error)) {
    finish(code, error);
    return false;
  }
  body_length_ = declared_body_length(view_);
  if (body_length_ > 0 && static_cast<uint64_t>(body_length_) > svc_->settings->max_body_size) {
    char msg[128];
    int n = snprintf(msg, sizeof msg, "request body larger than the maximum of %llu bytes",
                     static_cast<unsigned long long>(svc_->settings->max_body_size));
    finish(kResourceExhausted, formatted(msg, n, sizeof msg));
    return false;
  }
  // A GET-like request of unknown length waits for its first body byte or the half-close, so
  // that an empty body goes to the app without chunked framing, as Go's client probes it.
  if (body_length_ < 0 && verb_usually_lacks_body(view_.message.http_extension.verb)) return true;
  return start_app_call();
}

bool CallLocalStream::start_app_call() {
  AppChannel* channel = svc_->app;
  if (!channel->streams()) {
    channel = BufferedAppStream::create(svc_->io.pool, svc_->deferred, svc_->app);
    if (!channel) {
      finish(kResourceExhausted, "out of memory");
      return false;
    }
  }
  channel_ = channel;
  state_ = State::kInvoking;
  AppCall* call = channel->invoke_stream(view_, body_length_, this);
  if (state_ == State::kDone) return false;  // refused at once: on_app_stream_error answered
  app_call_ = call;
  return true;
}

bool CallLocalStream::forward_payload(std::string_view data) {
  if (data.empty()) return true;
  if (state_ == State::kReceiving && !start_app_call()) return false;  // the awaited first byte
  if (!app_call_) return state_ != State::kDone;
  if (!channel_->send_request_body(app_call_, bytes_of(data))) {
    if (state_ != State::kDone) finish(kInternal, "error invoking app channel: request body refused");
    return false;
  }
  return state_ != State::kDone;
}

void CallLocalStream::on_inbound_half_close() {
  half_closed_ = true;
  if (state_ == State::kDone) return;
  if (!reader_.finish()) {
    fail_framing();
    return;
  }
  if (!have_head_) {  // no message at all
    finish(kInvalidArgument, kLeadingChunkError);
    return;
  }
  reader_.reset();  // its storage is not needed any more
  if (state_ == State::kReceiving) {
    body_length_ = 0;  // the awaited body never came: an empty one, framed as such
    if (!start_app_call()) return;
  }
  if (app_call_) channel_->end_request_body(app_call_);
}

void CallLocalStream::on_app_request_writable() {
  if (state_ == State::kDone || unconsumed_ == 0) return;
  in_->server().consume(id(), unconsumed_);
  unconsumed_ = 0;
  pump();
}

// ---- response ---------------------------------------------------------------------------

void CallLocalStream::on_app_response_head(std::string_view internal_invoke_response) {
  if (state_ != State::kInvoking) return;
  if (!encode_head(internal_invoke_response) || !in_->server().send_data(id(), out_.span())) {
    reset_call();
    return;
  }
  state_ = State::kSending;
  pump();
}

bool CallLocalStream::encode_head(std::string_view all) {
  namespace wire = codec::wire;
  codec::InternalInvokeResponseView r;
  if (!codec::decode_internal_invoke_response(all, &r)) return false;
  // Message 1 is the response as the app channel built it, minus the body bytes: every field
  // except `message` (4) is copied as it is (status, headers, trailers, unknown fields), then
  // `message` is written again with content_type and data.type_url only (spec §2.3).
  codec::InvokeResponseFields message;
  message.content_type = r.message.content_type;
  message.data.type_url = r.message.data.type_url;
  message.data.present = !r.message.data.type_url.empty();
  const size_t message_size = codec::encoded_size(message);

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

void CallLocalStream::on_app_response_body(std::span<const uint8_t> bytes) {
  if (state_ != State::kSending) return;
  while (!bytes.empty()) {
    const size_t n = std::min(kChunkBytes, bytes.size());
    if (!send_payload(bytes.first(n))) return;
    bytes = bytes.subspan(n);
  }
  // The caller reads slower than the app writes: stop reading the app until on_inbound_writable().
  if (!response_paused_ && app_call_ &&
      in_->server().queued_bytes(id()) >= grpc::kStreamHighWatermark) {
    response_paused_ = true;
    channel_->pause_response(app_call_);
  }
  pump();
}

bool CallLocalStream::send_payload(std::span<const uint8_t> data) {
  // The body bytes are queued from where they are (one copy fewer than encoding the message
  // first); the queue is only appended to here, so the four pieces stay together.
  const codec::PayloadMessageSplit m = codec::split_payload_message(resp_seq_, data.size());
  uint8_t prefix[grpc::kMessagePrefixSize];
  grpc::write_message_prefix(static_cast<uint32_t>(m.message_size), prefix);
  grpc::GrpcServerConnection& server = in_->server();
  const bool ok = server.send_data(id(), prefix) && server.send_data(id(), {m.head, m.head_size}) &&
                  (data.empty() || server.send_data(id(), data)) &&
                  (m.tail_size == 0 || server.send_data(id(), {m.tail, m.tail_size}));
  if (!ok) {
    reset_call();
    return false;
  }
  ++resp_seq_;
  return true;
}

void CallLocalStream::on_inbound_writable() {
  if (state_ != State::kSending || !response_paused_ || !app_call_) return;
  response_paused_ = false;
  channel_->resume_response(app_call_);  // body pieces may arrive right here (and pump)
}

void CallLocalStream::on_app_response_end() {
  app_call_ = nullptr;
  if (state_ == State::kDone) return;
  if (state_ != State::kSending) {  // an end without a head breaks the channel's contract
    finish(kInternal, "error invoking app channel: no response");
    return;
  }
  finish(0, {});
}

void CallLocalStream::on_app_stream_error(int grpc_code, std::string_view message) {
  app_call_ = nullptr;
  if (state_ == State::kDone) return;
  // Once part of the answer is out, the status must say that the body broke off.
  finish(state_ == State::kSending ? kInternal : grpc_code, message);
}

// ---- ending -----------------------------------------------------------------------------

void CallLocalStream::on_deadline(void* self) {
  auto* call = static_cast<CallLocalStream*>(self);
  call->finish(kDeadlineExceeded, "context deadline exceeded");
}

void CallLocalStream::on_inbound_cancelled() {
  cancel_app_call();
  svc_->timers.cancel(&deadline_);
  end_call();
}

void CallLocalStream::fail_framing() {
  grpc::FramingError e = reader_.error();
  finish(grpc::framing_error_status(e), grpc::framing_error_text(e));
}

void CallLocalStream::cancel_app_call() {
  if (!app_call_) return;
  AppCall* call = app_call_;
  app_call_ = nullptr;
  channel_->cancel(call);
}

void CallLocalStream::finish(int grpc_status, std::string_view grpc_message) {
  cancel_app_call();
  svc_->timers.cancel(&deadline_);
  end_call();
  grpc::GrpcServerConnection& server = in_->server();
  if (unconsumed_) server.consume(id(), unconsumed_);  // the window we held is not ours any more
  unconsumed_ = 0;
  server.send_trailers(id(), grpc_status, grpc_message, {});
  pump();  // while nghttp2 is on the stack, the link pumps once it returns
}

void CallLocalStream::reset_call() {
  cancel_app_call();
  svc_->timers.cancel(&deadline_);
  end_call();
  in_->server().cancel(id(), NGHTTP2_INTERNAL_ERROR);  // no on_call_cancelled() follows
  pump();
}

void CallLocalStream::pump() { in_->flush(); }

void CallLocalStream::end_call() {
  state_ = State::kDone;
  in_->release(this);
}

}  // namespace ringside::invoke
