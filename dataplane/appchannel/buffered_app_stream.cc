#include "dataplane/appchannel/buffered_app_stream.h"

#include <algorithm>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/mem/pool_object.h"

namespace ringside::invoke {

namespace {
// The single call this object carries is the object itself.
AppCall* handle_of(BufferedAppStream* s) { return reinterpret_cast<AppCall*>(s); }
}  // namespace

BufferedAppStream* BufferedAppStream::create(mem::ShardPool* pool, mem::DeferredRelease* deferred,
                                             AppChannel* inner) {
  return mem::pool_new<BufferedAppStream>(pool, pool, deferred, inner);
}

BufferedAppStream::BufferedAppStream(mem::ShardPool* pool, mem::DeferredRelease* deferred,
                                     AppChannel* inner)
    : deferred_(deferred), inner_(inner), body_(pool), response_(pool) {}

AppCall* BufferedAppStream::invoke(const codec::InternalInvokeRequestView&, AppCallCompletion* done) {
  done->on_app_error(12, "error invoking app channel: unary calls go to the channel itself");
  return nullptr;
}

AppCall* BufferedAppStream::invoke_stream(const codec::InternalInvokeRequestView& request,
                                          int64_t, AppStreamCompletion* done) {
  done_ = done;
  request_ = request;  // the views stay valid until our last callback (AppChannel contract)
  return handle_of(this);
}

bool BufferedAppStream::send_request_body(AppCall*, std::span<const uint8_t> bytes) {
  if (!done_ || inner_call_) return false;
  if (body_.append(bytes.data(), bytes.size())) return true;
  AppStreamCompletion* done = done_;
  done_ = nullptr;
  finish();
  done->on_app_stream_error(8, "out of memory");
  return false;
}

void BufferedAppStream::end_request_body(AppCall*) {
  if (!done_ || inner_call_ || !response_.empty()) return;
  request_.message.data.value = body_.view();
  if (!body_.empty()) request_.message.data.present = true;
  AppCall* call = inner_->invoke(request_, this);
  // A completion inside invoke() returned nullptr and already cleared what it had to.
  if (call && !finished_ && response_.empty()) inner_call_ = call;
}

void BufferedAppStream::on_app_response(std::string_view internal_invoke_response) {
  inner_call_ = nullptr;
  if (!done_) return;
  codec::InternalInvokeResponseView r;
  if (!response_.append(internal_invoke_response)) {
    on_app_error(8, "out of memory");
    return;
  }
  if (!codec::decode_internal_invoke_response(response_.view(), &r)) {
    on_app_error(13, "error invoking app channel: malformed response");
    return;
  }
  response_body_ = r.message.data.value;
  body_.release();  // the request is delivered
  // The whole response serves as the head: the reader ignores message.data (app_channel.h).
  done_->on_app_response_head(response_.view());
  deliver();
}

void BufferedAppStream::on_app_error(int grpc_code, std::string_view message) {
  inner_call_ = nullptr;
  AppStreamCompletion* done = done_;
  done_ = nullptr;
  finish();
  if (done) done->on_app_stream_error(grpc_code, message);
}

void BufferedAppStream::deliver() {
  if (delivering_ || !done_ || response_.empty()) return;
  delivering_ = true;
  while (done_ && !paused_ && delivered_ < response_body_.size()) {
    const size_t n = std::min(kPieceBytes, response_body_.size() - delivered_);
    const std::string_view piece = response_body_.substr(delivered_, n);
    delivered_ += n;
    done_->on_app_response_body(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(piece.data()), piece.size()));
  }
  delivering_ = false;
  if (done_ && delivered_ == response_body_.size()) {
    AppStreamCompletion* done = done_;
    done_ = nullptr;
    finish();
    done->on_app_response_end();
  }
}

void BufferedAppStream::resume_response(AppCall*) {
  if (!done_) return;
  paused_ = false;
  deliver();
}

void BufferedAppStream::cancel(AppCall*) {
  if (finished_) return;
  done_ = nullptr;
  if (inner_call_) inner_->cancel(inner_call_);
  inner_call_ = nullptr;
  finish();
}

void BufferedAppStream::finish() {
  if (finished_) return;
  finished_ = true;
  deferred_->release(this);
}

}  // namespace ringside::invoke
