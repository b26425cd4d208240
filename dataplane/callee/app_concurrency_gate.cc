#include "dataplane/callee/app_concurrency_gate.h"

#include <cstdio>

#include "dataplane/http2/stream_queue.h"
#include "dataplane/mem/pool_object.h"

namespace ringside::invoke {
namespace {
constexpr int64_t kPollNs = 1'000'000;  // permits freed on other shards are seen within 1 ms
constexpr int kResourceExhausted = 8;
constexpr int kInternal = 13;
}  // namespace

// One call through the gate: the completion the app channel sees, forwarding to the caller's.
struct AppConcurrencyGate::Gated final : AppCallCompletion, AppStreamCompletion {
  Gated(AppConcurrencyGate* g, mem::ShardPool* pool) : gate(g), held(pool) {
    timeout.fn = &AppConcurrencyGate::on_wait_timeout;
    timeout.owner = this;
  }

  AppConcurrencyGate* gate;
  const codec::InternalInvokeRequestView* request = nullptr;  // the caller's, valid until the end
  AppCallCompletion* unary_done = nullptr;   // unary calls
  AppStreamCompletion* stream_done = nullptr;  // streaming calls
  int64_t body_length = -1;                  // streaming: as given to invoke_stream
  AppCall* inner = nullptr;                  // the app channel's call once started
  Gated* next = nullptr;                     // FIFO link while waiting
  shard::Timer timeout;                      // --app-concurrency-timeout while waiting
  mem::Buffer held;                          // streaming body bytes sent while waiting
  bool waiting = false;                      // in the FIFO
  bool running = false;                      // holds a permit and an inner call
  bool starting = false;                     // inside inner->invoke*(): do not free yet
  bool finished = false;                     // the last callback ran (or cancel)
  bool ended = false;                        // end_request_body() came while waiting
  bool paused = false;                       // pause_response() came while waiting
  bool writable_owed = false;                // the caller was told the body is queued high

  // ---- AppCallCompletion ----
  void on_app_response(std::string_view r) override {
    AppCallCompletion* d = unary_done;
    gate->finish(this);
    d->on_app_response(r);
  }
  bool adopts_response_body() const override { return unary_done->adopts_response_body(); }
  void on_app_response_adopting(std::string_view head, mem::Buffer* owner, size_t offset,
                                size_t size) override {
    AppCallCompletion* d = unary_done;
    gate->finish(this);
    d->on_app_response_adopting(head, owner, offset, size);
  }
  void on_app_error(int code, std::string_view m) override {
    AppCallCompletion* d = unary_done;
    gate->finish(this);
    d->on_app_error(code, m);
  }
  // ---- AppStreamCompletion ----
  void on_app_response_head(std::string_view r) override { stream_done->on_app_response_head(r); }
  void on_app_response_body(std::span<const uint8_t> b) override { stream_done->on_app_response_body(b); }
  void on_app_response_end() override {
    AppStreamCompletion* d = stream_done;
    gate->finish(this);
    d->on_app_response_end();
  }
  void on_app_stream_error(int code, std::string_view m) override {
    AppStreamCompletion* d = stream_done;
    gate->finish(this);
    d->on_app_stream_error(code, m);
  }
  void on_app_request_writable() override { stream_done->on_app_request_writable(); }
};

AppConcurrencyGate::AppConcurrencyGate(ShardServices* svc, AppChannel* inner, AppConcurrency* permits,
                                       uint32_t max_waiting, int64_t wait_timeout_ns)
    : svc_(svc), inner_(inner), permits_(permits), max_waiting_(max_waiting), wait_timeout_ns_(wait_timeout_ns) {
  poll_.fn = &AppConcurrencyGate::on_poll;
  poll_.owner = this;
  const int n = snprintf(refusal_, sizeof refusal_,
                         "error invoking app channel: too many concurrent calls to the app "
                         "(--app-max-concurrency %d)",
                         permits->limit());
  refusal_text_ = std::string_view(refusal_, n > 0 ? std::min<size_t>(n, sizeof refusal_ - 1) : 0);
}

AppConcurrencyGate::~AppConcurrencyGate() {
  svc_->timers.cancel(&poll_);
  for (Gated* g = head_; g; g = g->next) svc_->timers.cancel(&g->timeout);
}

AppCall* AppConcurrencyGate::invoke(const codec::InternalInvokeRequestView& request, AppCallCompletion* done) {
  Gated* g = mem::pool_new<Gated>(svc_->io.pool, this, svc_->io.pool);
  if (!g) {
    done->on_app_error(kResourceExhausted, "error invoking app channel: out of memory");
    return nullptr;
  }
  g->request = &request;
  g->unary_done = done;
  return admit(g);
}

AppCall* AppConcurrencyGate::invoke_stream(const codec::InternalInvokeRequestView& request, int64_t body_length,
                                           AppStreamCompletion* done) {
  Gated* g = mem::pool_new<Gated>(svc_->io.pool, this, svc_->io.pool);
  if (!g) {
    done->on_app_stream_error(kResourceExhausted, "error invoking app channel: out of memory");
    return nullptr;
  }
  g->request = &request;
  g->stream_done = done;
  g->body_length = body_length;
  return admit(g);
}

AppCall* AppConcurrencyGate::admit(Gated* g) {
  if (shut_down_) {
    fail_waiting(g, kInternal, "error invoking app channel: sidecar is shutting down");
    return nullptr;
  }
  // First come, first served: a new call does not overtake calls already waiting here.
  if (head_ == nullptr && permits_->try_acquire()) {
    if (!start(g)) return nullptr;
    return reinterpret_cast<AppCall*>(g);
  }
  if (waiting_ >= max_waiting_) {
    fail_waiting(g, kResourceExhausted, refusal_text_);
    return nullptr;
  }
  enqueue(g);
  return reinterpret_cast<AppCall*>(g);
}

bool AppConcurrencyGate::start(Gated* g) {
  g->running = true;
  g->starting = true;
  AppCall* inner = g->unary_done ? inner_->invoke(*g->request, g)
                                 : inner_->invoke_stream(*g->request, g->body_length, g);
  g->starting = false;
  if (g->finished) {  // answered inside invoke: finish() left the freeing to us
    mem::pool_delete(svc_->io.pool, g);
    return false;
  }
  g->inner = inner;
  if (g->stream_done) {
    if (g->paused) inner_->pause_response(inner);
    if (!g->held.empty()) {
      const bool ok = inner_->send_request_body(inner, g->held.span());
      g->held.release();
      if (!ok) return false;  // its error callback ran and freed g
    }
    if (g->ended) inner_->end_request_body(inner);
    if (g->writable_owed && inner_->request_queued(inner) < http2::kStreamHighWatermark) {
      g->writable_owed = false;
      g->stream_done->on_app_request_writable();
    }
  }
  return true;
}

void AppConcurrencyGate::finish(Gated* g) {
  g->finished = true;
  if (g->running) {
    g->running = false;
    permits_->release();
  }
  if (!g->starting) mem::pool_delete(svc_->io.pool, g);
  promote();
}

void AppConcurrencyGate::promote() {
  if (promoting_) return;  // the loop below on the stack picks up what this call freed
  promoting_ = true;
  while (head_ && permits_->try_acquire()) {
    Gated* g = head_;
    unlink(g);
    start(g);
  }
  promoting_ = false;
  if (head_) {
    if (!poll_.armed) svc_->timers.arm(&poll_, shard::monotonic_ns() + kPollNs);
  } else {
    svc_->timers.cancel(&poll_);
  }
}

void AppConcurrencyGate::enqueue(Gated* g) {
  g->waiting = true;
  g->next = nullptr;
  if (tail_) {
    tail_->next = g;
  } else {
    head_ = g;
  }
  tail_ = g;
  ++waiting_;
  shard::ShardCounters::set(svc_->counters->app_calls_waiting, waiting_);
  svc_->timers.arm(&g->timeout, shard::monotonic_ns() + wait_timeout_ns_);
  if (!poll_.armed) svc_->timers.arm(&poll_, shard::monotonic_ns() + kPollNs);
}

void AppConcurrencyGate::unlink(Gated* g) {
  Gated** p = &head_;
  Gated* prev = nullptr;
  while (*p && *p != g) {
    prev = *p;
    p = &(*p)->next;
  }
  if (*p) {
    *p = g->next;
    if (tail_ == g) tail_ = prev;
    --waiting_;
    shard::ShardCounters::set(svc_->counters->app_calls_waiting, waiting_);
  }
  g->waiting = false;
  g->next = nullptr;
  svc_->timers.cancel(&g->timeout);
}

void AppConcurrencyGate::fail_waiting(Gated* g, int code, std::string_view message) {
  if (g->waiting) unlink(g);
  AppCallCompletion* unary = g->unary_done;
  AppStreamCompletion* stream = g->stream_done;
  mem::pool_delete(svc_->io.pool, g);
  if (unary) {
    unary->on_app_error(code, message);
  } else {
    stream->on_app_stream_error(code, message);
  }
}

void AppConcurrencyGate::on_wait_timeout(void* self) {
  auto* g = static_cast<Gated*>(self);
  g->gate->fail_waiting(g, kResourceExhausted, g->gate->refusal_text_);
}

void AppConcurrencyGate::on_poll(void* self) { static_cast<AppConcurrencyGate*>(self)->promote(); }

void AppConcurrencyGate::cancel(AppCall* call) {
  auto* g = reinterpret_cast<Gated*>(call);
  if (g->waiting) {
    unlink(g);
    mem::pool_delete(svc_->io.pool, g);
    return;
  }
  if (g->inner) inner_->cancel(g->inner);
  finish(g);
}

void AppConcurrencyGate::shutdown() {
  shut_down_ = true;
  while (head_) fail_waiting(head_, kInternal, "error invoking app channel: sidecar is shutting down");
  svc_->timers.cancel(&poll_);
  inner_->shutdown();
}

bool AppConcurrencyGate::send_request_body(AppCall* call, std::span<const uint8_t> bytes) {
  auto* g = reinterpret_cast<Gated*>(call);
  if (g->running) return inner_->send_request_body(g->inner, bytes);
  return g->held.append(bytes.data(), bytes.size());  // bounded by the caller's stream window
}

size_t AppConcurrencyGate::request_queued(const AppCall* call) const {
  auto* g = reinterpret_cast<Gated*>(const_cast<AppCall*>(call));
  if (g->running) return inner_->request_queued(g->inner);
  // Waiting: report the body as queued high, so the caller stops reading the peer's stream
  // (and owes nothing it cannot get back: start() sends on_app_request_writable()).
  g->writable_owed = true;
  return g->held.size() + http2::kStreamHighWatermark;
}

void AppConcurrencyGate::end_request_body(AppCall* call) {
  auto* g = reinterpret_cast<Gated*>(call);
  if (g->running) {
    inner_->end_request_body(g->inner);
  } else {
    g->ended = true;
  }
}

void AppConcurrencyGate::pause_response(AppCall* call) {
  auto* g = reinterpret_cast<Gated*>(call);
  if (g->running) {
    inner_->pause_response(g->inner);
  } else {
    g->paused = true;
  }
}

void AppConcurrencyGate::resume_response(AppCall* call) {
  auto* g = reinterpret_cast<Gated*>(call);
  if (g->running) {
    inner_->resume_response(g->inner);
  } else {
    g->paused = false;
  }
}

}  // namespace ringside::invoke
