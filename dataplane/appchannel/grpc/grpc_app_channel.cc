#include "dataplane/appchannel/grpc/grpc_app_channel.h"

#include <algorithm>
#include <cstdio>

#include "dataplane/codec/wire.h"
#include "dataplane/http1/base64.h"
#include "dataplane/mapping/api_token.h"
#include "dataplane/mapping/grpc_metadata_map.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/runtime/shard_counters.h"

namespace ringside::invoke {
namespace {

constexpr std::string_view kOnInvokePath = "/dapr.proto.runtime.v1.AppCallback/OnInvoke";
constexpr std::string_view kStatusDetailsKey = "grpc-status-details-bin";

// Collects the `details` (3) of a google.rpc.Status; false if the bytes are not a message.
bool parse_status_details(std::string_view status, grpc::PodVector<codec::AnyFields>* out) {
  codec::wire::Reader r(status);
  while (!r.at_end()) {
    uint32_t field;
    codec::wire::WireType wt;
    if (!r.read_tag(&field, &wt)) return false;
    if (field == 3 && wt == codec::wire::WireType::kLen) {
      std::string_view payload;
      codec::AnyView any;
      if (!r.read_len(&payload) || !codec::detail::merge_any(payload, &any, 1)) return false;
      if (!out->push_back(codec::AnyFields{any.type_url, any.value, true})) return false;
    } else if (!r.skip(field, wt, 0)) {
      return false;
    }
  }
  return true;
}

}  // namespace

struct GrpcAppChannel::Call final : upstream::PeerCall {
  GrpcAppChannel* channel;               // owner
  AppCallCompletion* done;               // who gets the outcome
  mem::Buffer request;                   // encoded InvokeRequest (read lazily by the connection)
  upstream::PeerConnection* conn = nullptr;  // carries the call; alive while the call is
  int32_t stream = 0;                    // its stream id

  Call(GrpcAppChannel* ch, AppCallCompletion* d, mem::ShardPool* pool)
      : channel(ch), done(d), request(pool) {}
  void on_peer_result(const grpc::UnaryResult& r) override { channel->complete(this, r); }
};

// AppCall is the channel-neutral handle of app_channel.h; ours is a Call underneath.
static AppCall* handle(GrpcAppChannel::Call* c) { return reinterpret_cast<AppCall*>(c); }
static GrpcAppChannel::Call* from_handle(AppCall* c) {
  return reinterpret_cast<GrpcAppChannel::Call*>(c);
}

GrpcAppChannel::GrpcAppChannel(ShardServices* svc)
    : svc_(svc),
      conns_(svc, upstream::PeerPool::Kind::kApp),
      metadata_(svc->io.pool),
      scratch_(svc->io.pool) {}

GrpcAppChannel::~GrpcAppChannel() = default;

void GrpcAppChannel::fail(AppCallCompletion* done, std::string_view why) {
  shard::ShardCounters::bump(svc_->counters->app_errors);
  char text[256];
  int n = snprintf(text, sizeof text, "error invoking app channel: %.*s",
                   static_cast<int>(why.size()), why.data());
  done->on_app_error(13, std::string_view(text, n > 0 ? std::min<size_t>(n, sizeof text - 1) : 0));
}

AppCall* GrpcAppChannel::invoke(const codec::InternalInvokeRequestView& request,
                                AppCallCompletion* done) {
  if (shutting_down_) {
    fail(done, "sidecar is shutting down");
    return nullptr;
  }
  shard::ShardCounters::bump(svc_->counters->app_calls);
  // The InvokeRequest exactly as it arrived (type_url kept), body included (§4.4).
  const codec::InvokeRequestView& m = request.message;
  codec::InvokeRequestFields f;
  f.method = m.method;
  f.data = codec::AnyFields{m.data.type_url, m.data.value, m.data.present};
  f.content_type = m.content_type;
  f.has_http_extension = m.http_extension.present;
  f.verb = m.http_extension.verb;
  f.querystring = m.http_extension.querystring;

  auto* call = mem::pool_new<Call>(svc_->io.pool, this, done, svc_->io.pool);
  size_t size = codec::encoded_size(f);
  if (!call || !call->request.reserve(size)) {
    if (call) mem::pool_delete(svc_->io.pool, call);
    fail(done, "out of memory");
    return nullptr;
  }
  codec::encode(f, call->request.tail());
  call->request.commit(size);

  metadata_.clear();
  GrpcMetadataConverter conv(&metadata_, /*rename_http_headers=*/true);
  request.for_each_metadata([&](std::string_view k, std::string_view v) { conv.add(k, v); });
  std::span<const grpc::Metadata> md;
  const SidecarSettings& s = *svc_->settings;
  // APP_API_TOKEN goes to the app as daprd sends it (the caller's token was dropped above).
  if (!conv.finish() ||
      (!s.app_api_token.empty() && !metadata_.add(kApiTokenKey, s.app_api_token)) ||
      !metadata_.materialize(&md)) {
    mem::pool_delete(svc_->io.pool, call);
    fail(done, "request metadata too large");
    return nullptr;
  }
  call->conn = conns_.get(snapshot::SocketAddress::ipv4(s.app_addr.sin_addr.s_addr, s.app_addr.sin_port));
  if (call->conn) {
    call->stream = call->conn->start_call(kOnInvokePath, s.app_authority, md, 0,
                                          call->request.view(), call);
  }
  metadata_.clear();
  if (!call->conn || !call->stream) {
    mem::pool_delete(svc_->io.pool, call);
    char why[160];
    int n = snprintf(why, sizeof why, "connection error: the app at %s is not reachable",
                     s.app_authority.c_str());
    fail(done, std::string_view(why, n > 0 ? std::min<size_t>(n, sizeof why - 1) : 0));
    return nullptr;
  }
  return handle(call);
}

void GrpcAppChannel::complete(Call* call, const grpc::UnaryResult& r) {
  AppCallCompletion* done = call->done;
  svc_->deferred->release(call);
  if (!done) return;
  if (r.transport_error) {
    char why[512];
    int n = snprintf(why, sizeof why, "connection error: %.*s",
                     static_cast<int>(std::min<size_t>(r.grpc_message.size(), 400)),
                     r.grpc_message.data());
    fail(done, std::string_view(why, n > 0 ? std::min<size_t>(n, sizeof why - 1) : 0));
    return;
  }
  if (!encode_grpc_app_response(r, &scratch_)) {
    fail(done, "response metadata too large");
    return;
  }
  done->on_app_response(scratch_.response.view());
  scratch_.response.clear_keeping(256u << 10);
  if (scratch_.details.capacity() > (64u << 10)) scratch_.details.release();
}

bool encode_grpc_app_response(const grpc::UnaryResult& r, GrpcAppResponseScratch* s) {
  codec::InternalInvokeResponseFields f;
  f.status.code = r.grpc_status;
  f.status.message = r.grpc_message;
  // Details travel in the grpc-status-details-bin trailer (base64 google.rpc.Status).
  s->details.clear();
  s->detail_list.clear();
  for (const grpc::Metadata& m : r.trailers) {
    if (m.key != kStatusDetailsKey || r.grpc_status == 0) continue;
    size_t n = 0;
    if (s->details.reserve(http1::base64_decoded_max_size(m.value.size())) &&
        http1::base64_decode(m.value, std::span<uint8_t>(s->details.tail(), s->details.tail_room()),
                             &n, http1::Base64Padding::kOptional)) {
      s->details.commit(n);
      if (!parse_status_details(s->details.view(), &s->detail_list)) s->detail_list.clear();
    }
    break;
  }
  f.status.details = s->detail_list.span();

  s->headers.reset();
  s->trailers.reset();
  if (!add_grpc_metadata(r.headers, &s->headers) ||
      !add_grpc_metadata(r.trailers, &s->trailers, kStatusDetailsKey)) {
    return false;
  }
  f.headers = s->headers.build();
  f.trailers = s->trailers.build();
  f.has_message = false;
  if (r.grpc_status == 0) {
    codec::InvokeResponseView resp;
    if (codec::decode_invoke_response(r.message, &resp)) {
      f.has_message = true;
      f.message.data = codec::AnyFields{resp.data.type_url, resp.data.value, resp.data.present};
      f.message.content_type = resp.content_type;
    } else {
      // What grpc-go reports for an answer it cannot parse.
      f.status.code = 13;
      f.status.message = "grpc: failed to unmarshal the received message";
    }
  }
  size_t size = codec::encoded_size(f);
  s->response.clear();
  if (!s->response.reserve(size)) return false;
  codec::encode(f, s->response.tail());
  s->response.commit(size);
  return true;
}

void GrpcAppChannel::cancel(AppCall* handle_) {
  if (!handle_) return;
  Call* call = from_handle(handle_);
  // RST_STREAM(CANCEL): the app sees the cancellation; no result is delivered afterwards.
  call->conn->cancel(call->stream);
  svc_->deferred->release(call);
}

void GrpcAppChannel::shutdown() {
  shutting_down_ = true;
  conns_.close_all();
}

upstream::PeerConnection* GrpcAppChannel::connection() {
  if (shutting_down_) return nullptr;
  const SidecarSettings& s = *svc_->settings;
  return conns_.get(snapshot::SocketAddress::ipv4(s.app_addr.sin_addr.s_addr, s.app_addr.sin_port));
}

}  // namespace ringside::invoke
