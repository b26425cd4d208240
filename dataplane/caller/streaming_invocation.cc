#include "dataplane/caller/streaming_invocation.h"

#include <algorithm>
#include <cstdio>

#include "dataplane/codec/stream_messages.h"
#include "dataplane/grpc/framing.h"
#include "dataplane/upstream/peer_choice.h"
#include "dataplane/mapping/rpc_error_text.h"
#include "dataplane/runtime/sidecar_settings.h"

namespace ringside::invoke {
namespace {
constexpr std::string_view kCallLocalStreamPath =
    "/dapr.proto.internals.v1.ServiceInvocation/CallLocalStream";
// daprd's texts for a broken answer (spec §2.3), so callers see the same errors.
constexpr std::string_view kLeadingChunkError =
    "response does not contain the required fields in the leading chunk";
constexpr std::string_view kNonLeadingResponseError = "response metadata found in non-leading chunk";
constexpr int kUnimplemented = 12;
constexpr int kInternal = 13;
constexpr int kUnavailable = 14;
}  // namespace

StreamingInvocation::StreamingInvocation(ShardServices* svc)
    : svc_(svc),
      // A response message is one payload or the head: the unary message limit covers both.
      reader_(svc->io.pool, static_cast<uint32_t>(std::min<uint64_t>(
                                svc->settings->max_body_size + 4096, UINT32_MAX))),
      out_(svc->io.pool) {
  timeout_timer_.fn = &StreamingInvocation::on_policy_timeout;
  timeout_timer_.owner = this;
}

StreamingInvocation::~StreamingInvocation() { svc_->timers.cancel(&timeout_timer_); }

void StreamingInvocation::on_policy_timeout(void* self) {
  auto* inv = static_cast<StreamingInvocation*>(self);
  // As the unary path: the stream is reset (the peer cancels the app call) and the client gets
  // daprd's "context deadline exceeded".
  if (inv->stream_ && inv->peer_) inv->peer_->cancel(inv->stream_);
  inv->stream_ = 0;
  inv->note_breaker(false);
  if (StreamingInvocationOwner* o = inv->finish()) o->on_stream_error(4, "context deadline exceeded");
}

void StreamingInvocation::note_breaker(bool success) {
  if (!admitted_) return;
  admitted_ = false;
  svc_->settings->breakers->report(breaker_key_, admission_, success, policy_->breaker, shard::monotonic_ns());
}

void StreamingInvocation::release_breaker() {
  if (!admitted_) return;
  admitted_ = false;
  svc_->settings->breakers->release(breaker_key_, admission_);
}

StreamingInvocation::Start StreamingInvocation::start(std::string_view app_id, std::string_view ns,
                                                      const codec::InternalInvokeRequestFields& head,
                                                      StreamingInvocationOwner* owner) {
  owner_ = owner;
  peer_ = nullptr;
  stream_ = 0;
  send_seq_ = 0;
  recv_seq_ = 0;
  unconsumed_ = 0;
  have_head_ = false;
  paused_ = false;
  reader_.reset();
  PeerChoice choice = choose_peer(svc_, app_id, ns, {}, hash_key_);
  if (choice.outcome == PeerChoice::Outcome::kUnknown) {
    owner_ = nullptr;  // the owner parks and starts again when the table answers
    return Start::kUnknownApp;
  }
  // Issue 10 (res): the target's policy; an open circuit breaker answers at once.
  policy_ = svc_->settings->resiliency ? svc_->settings->resiliency->find(app_id) : nullptr;
  breaker_key_ = 0;
  admitted_ = false;
  app_failed_ = false;
  if (policy_ && policy_->has_breaker && svc_->settings->breakers) {
    breaker_key_ = resiliency::breaker_key(app_id, head.message.method);
    admission_ = svc_->settings->breakers->admit(breaker_key_, policy_->breaker, shard::monotonic_ns());
    if (!admission_.allowed) {
      if (StreamingInvocationOwner* o = finish()) o->on_stream_error(-1, admission_.refusal);
      return Start::kFailed;
    }
    admitted_ = true;
  }
  if (choice.outcome == PeerChoice::Outcome::kNoInstance) {
    release_breaker();
    if (StreamingInvocationOwner* o = finish()) o->on_stream_error(-1, "no host found with the given ID");
    return Start::kFailed;
  }
  if (choice.outcome == PeerChoice::Outcome::kNoClusterInstance || choice.outcome == PeerChoice::Outcome::kBroadcast) {
    // kBroadcast: the HTTP ingress refuses streamed bodies to broadcast app ids before this
    // (http_ingress_stream.cc); reaching it anyway fails rather than picking one instance.
    char text[512];
    release_breaker();
    if (StreamingInvocationOwner* o = finish()) o->on_stream_error(-1, cluster_refusal_text(choice, app_id, text));
    return Start::kFailed;
  }
  if (choice.conn && choice.conn->unary_only()) {
    release_breaker();  // the unary path admits the call itself
    owner_ = nullptr;
    return Start::kUnaryOnly;
  }
  shard::ShardCounters::bump(svc_->counters->peer_calls);
  if (choice.conn) {
    // Issue 10 (res): the policy's timeout goes to the peer too (a constant grpc-timeout).
    const int64_t timeout_ns = policy_ ? policy_->timeout_ns : 0;
    stream_ = choice.conn->start_stream(kCallLocalStreamPath, choice.authority, {}, timeout_ns, this,
                                        /*default_deadline=*/true);
    if (stream_ && timeout_ns > 0) svc_->timers.arm(&timeout_timer_, shard::monotonic_ns() + timeout_ns);
  }
  if (!stream_) {
    fail(kUnavailable, "connection error: the peer sidecar is not reachable");
    return Start::kFailed;
  }
  peer_ = choice.conn;
  // Issue 11: daprd's req_sent{type="streaming"}; res_recv is counted when the peer's stream ends.
  dapr_row_ = &svc_->counters->dapr.peers.row(app_id);
  shard::bump_relaxed(dapr_row_->req_sent[static_cast<size_t>(shard::InvokeType::kStreaming)]);
  dapr_sent_ns_ = shard::monotonic_ns();
  codec::InternalInvokeRequestStreamFields first;
  first.request = &head;
  if (!send_message(first)) {
    fail(kInternal, "out of memory");
    return Start::kFailed;
  }
  return Start::kStarted;
}

bool StreamingInvocation::send_message(const codec::InternalInvokeRequestStreamFields& m) {
  const size_t size = codec::encoded_size(m);
  out_.clear();
  if (size > UINT32_MAX || !out_.reserve(grpc::kMessagePrefixSize + size)) return false;
  grpc::write_message_prefix(static_cast<uint32_t>(size), out_.tail());
  uint8_t* end = codec::encode(m, out_.tail() + grpc::kMessagePrefixSize);
  out_.commit(static_cast<size_t>(end - out_.tail()));
  return peer_->send_data(stream_, out_.span());
}

bool StreamingInvocation::send_body(std::string_view bytes) {
  if (!owner_ || !stream_) return false;
  // Bounded by bytes.size() / kPayloadBytes rounds.
  while (!bytes.empty()) {
    const size_t n = std::min(kPayloadBytes, bytes.size());
    // Numbered before it is queued: queueing may run on_peer_writable() and the owner may
    // send again from there. The body bytes are queued from where they are (one copy fewer
    // than encoding the message first); head and tail go in the same run.
    const codec::PayloadMessageSplit m = codec::split_payload_message(send_seq_++, n);
    uint8_t prefix[grpc::kMessagePrefixSize];
    grpc::write_message_prefix(static_cast<uint32_t>(m.message_size), prefix);
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    if (!peer_->send_data(stream_, {std::span<const uint8_t>(prefix), std::span<const uint8_t>(m.head, m.head_size),
                                    std::span<const uint8_t>(data, n), std::span<const uint8_t>(m.tail, m.tail_size)})) {
      fail(kInternal, "the request could not be queued toward the peer sidecar");
      return false;
    }
    bytes.remove_prefix(n);
  }
  return true;
}

size_t StreamingInvocation::queued() const {
  return peer_ && stream_ ? peer_->queued_bytes(stream_) : 0;
}

bool StreamingInvocation::end_body() {
  if (!owner_ || !stream_) return false;
  if (!peer_->close_send(stream_)) {
    fail(kInternal, "the request could not be completed toward the peer sidecar");
    return false;
  }
  return true;
}

void StreamingInvocation::resume_response() {
  paused_ = false;
  if (unconsumed_ > 0 && peer_ && stream_) {
    size_t n = unconsumed_;
    unconsumed_ = 0;
    peer_->consume(stream_, n);
  }
}

void StreamingInvocation::on_peer_headers(std::span<const grpc::Metadata>) {}

void StreamingInvocation::on_peer_data(std::span<const uint8_t> bytes) {
  const size_t n = bytes.size();
  // Each round takes at least one byte (a message has a 5-byte prefix) or returns.
  for (size_t round = 0; round <= n && owner_; ++round) {
    std::string_view message;
    grpc::MessageStreamReader::Result r = reader_.next(&bytes, &message);
    if (r == grpc::MessageStreamReader::Result::kNeedMore) break;
    if (r == grpc::MessageStreamReader::Result::kError) {
      fail(kInternal, grpc::framing_error_text(reader_.error()));
      break;
    }
    if (!on_message(message)) break;
  }
  if (!owner_ || !stream_) return;
  // The bytes are handed on: acknowledge them now, or once the owner resumes.
  if (paused_) {
    unconsumed_ += n;
  } else {
    peer_->consume(stream_, n);
  }
}

bool StreamingInvocation::on_message(std::string_view message) {
  codec::InternalInvokeResponseStreamView chunk;
  if (!codec::decode_internal_invoke_response_stream(message, &chunk)) {
    fail(kInternal, "malformed InternalInvokeResponseStream from the peer sidecar");
    return false;
  }
  if (!have_head_) {
    if (!chunk.has_response || !chunk.response.status.present) {
      fail(kInternal, kLeadingChunkError);
      return false;
    }
    have_head_ = true;
    const int code = chunk.response.status.code;  // issue 10 (res): an app failure for the breaker
    app_failed_ = code >= 100 && (code < 200 || code > 399);
    owner_->on_stream_response_head(chunk.response);
    if (!owner_) return false;
  } else if (chunk.has_response) {
    fail(kInternal, kNonLeadingResponseError);
    return false;
  }
  if (!chunk.payload.present) return true;
  if (chunk.payload.seq != recv_seq_) {
    char msg[128];
    int k = snprintf(msg, sizeof msg, "invalid sequence number received: %llu (expected: %llu)",
                     static_cast<unsigned long long>(chunk.payload.seq),
                     static_cast<unsigned long long>(recv_seq_));
    fail(kInternal, std::string_view(msg, k > 0 ? std::min<size_t>(k, sizeof msg - 1) : 0));
    return false;
  }
  ++recv_seq_;
  if (!chunk.payload.data.empty()) owner_->on_stream_response_body(chunk.payload.data);
  return owner_ != nullptr;
}

void StreamingInvocation::on_peer_writable() {
  if (owner_) owner_->on_stream_request_writable();
}

void StreamingInvocation::on_peer_end(int grpc_status, std::string_view grpc_message,
                                      std::span<const grpc::Metadata>, bool, bool) {
  stream_ = 0;  // the peer's stream is over: nothing to cancel or acknowledge any more
  svc_->timers.cancel(&timeout_timer_);
  if (dapr_row_) {  // issue 11: daprd's res_recv{type="streaming"} and its latency
    const size_t slot = shard::grpc_status_slot(grpc_status);
    shard::bump_relaxed(dapr_row_->res_recv[slot][static_cast<size_t>(shard::InvokeType::kStreaming)]);
    dapr_row_->res_recv_latency[slot].record_ns(shard::monotonic_ns() - dapr_sent_ns_);
    dapr_row_ = nullptr;
  }
  if (!owner_) return;
  if (grpc_status == 4 && policy_ && policy_->timeout_ns > 0) {
    // The peer (or our connection) enforced the policy's grpc-timeout: the same timeout.
    note_breaker(false);
    if (StreamingInvocationOwner* o = finish()) o->on_stream_error(4, "context deadline exceeded");
    return;
  }
  if (grpc_status == 0) {
    if (!have_head_ || !reader_.finish()) {
      fail(kInternal, have_head_ ? grpc::framing_error_text(reader_.error()) : kLeadingChunkError);
      return;
    }
    note_breaker(!app_failed_);
    if (StreamingInvocationOwner* o = finish()) o->on_stream_response_end();
    return;
  }
  if (grpc_status == kUnimplemented && !have_head_) {
    release_breaker();
    peer_->set_unary_only();
    if (StreamingInvocationOwner* o = finish()) o->on_stream_unimplemented();
    return;
  }
  fail(grpc_status, grpc_message);
}

void StreamingInvocation::fail(int grpc_code, std::string_view message) {
  svc_->timers.cancel(&timeout_timer_);
  note_breaker(false);
  if (stream_ && peer_) {
    peer_->cancel(stream_);
    stream_ = 0;
  }
  char text[1024];
  std::string_view error = rpc_error_text(grpc_code, message, text);
  if (StreamingInvocationOwner* o = finish()) o->on_stream_error(grpc_code, error);
}

StreamingInvocationOwner* StreamingInvocation::finish() {
  StreamingInvocationOwner* o = owner_;
  owner_ = nullptr;
  return o;
}

void StreamingInvocation::cancel() {
  owner_ = nullptr;
  svc_->timers.cancel(&timeout_timer_);  // issue 10 (res)
  release_breaker();
  if (stream_ && peer_) peer_->cancel(stream_);
  stream_ = 0;
  peer_ = nullptr;
}

void StreamingInvocation::recycle(size_t keep_bytes) {
  reader_.reset();
  out_.clear_keeping(keep_bytes);
}

}  // namespace ringside::invoke
