#include "dataplane/appchannel/http/http_app_channel.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "dataplane/http1/canonical_header_key.h"
#include "dataplane/http1/number.h"
#include "dataplane/http1/verb.h"
#include "dataplane/http1/writer.h"
#include "dataplane/mapping/header_rules.h"
#include "dataplane/appchannel/http/http_app_call.h"
#include "dataplane/mapping/invoke_scratch.h"
#include "dataplane/mapping/metadata_headers.h"
#include "dataplane/mapping/path_escape.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/runtime/shard_counters.h"

namespace ringside::invoke {

namespace {

std::string_view errno_text(int err) {
  switch (-err) {
    case ECONNREFUSED: return "connect: connection refused";
    case ECONNRESET: return "read: connection reset by peer";
    case EPIPE: return "write: broken pipe";
    case ETIMEDOUT: return "connect: connection timed out";
    case EHOSTUNREACH: return "connect: no route to host";
    case 0: return "EOF";
    default: return "connection error";
  }
}

// An app connection keeps an input buffer up to this size between calls (typical answers fit
// and need no block per call); a larger one is returned to the shard pool when its call ends.
constexpr size_t kKeptInputBytes = 64 * 1024;

// Verbs whose requests carry Content-Length even when empty, as Go's client writes them.
bool verb_sends_empty_length(int verb) { return verb == 3 || verb == 4 || verb == 9; }  // POST PUT PATCH

}  // namespace

HttpAppChannel::HttpAppChannel(ShardServices* svc)
    : svc_(svc), response_scratch_(svc->io.pool) {}

HttpAppChannel::~HttpAppChannel() = default;

int HttpAppChannel::check_request(const codec::InternalInvokeRequestView& request,
                                  std::string_view* message) const {
  const auto& ext = request.message.http_extension;
  if (!ext.present) {
    *message = "missing HTTP extension field";
    return 3;
  }
  if (ext.verb <= 0 || ext.verb == 6 || ext.verb > 9) {
    *message = "invalid HTTP verb";
    return 3;
  }
  if (shutting_down_) {
    *message = "error invoking app channel: sidecar is shutting down";
    return 13;
  }
  return 0;
}

AppCall* HttpAppChannel::invoke(const codec::InternalInvokeRequestView& request,
                                AppCallCompletion* done) {
  std::string_view message;
  if (int code = check_request(request, &message)) {
    done->on_app_error(code, message);
    return nullptr;
  }
  AppCall* call = mem::pool_new<AppCall>(svc_->io.pool, svc_->io.pool);
  if (!call) {
    done->on_app_error(8, "error invoking app channel: out of memory");
    return nullptr;
  }
  call->done = done;
  call->request = &request;
  call->head_request = request.message.http_extension.verb == 2;
  shard::ShardCounters::bump(svc_->counters->app_calls);
  assign(call);
  return call;
}

void HttpAppChannel::assign(AppCall* call) {
  if (idle_) {
    Conn* c = idle_;
    idle_ = c->next_idle;
    c->idle = false;
    c->next_idle = nullptr;
    start_on(c, call);
    return;
  }
  if (open_ < svc_->settings->max_app_connections) {
    Conn* c = mem::pool_new<Conn>(svc_->io.pool, this, svc_->io.pool);
    if (!c) {
      fail_call(call, -ENOMEM);
      return;
    }
    c->tcp = io::TcpConnection::dial(&svc_->io, svc_->settings->app_addr, c);
    if (!c->tcp) {
      mem::pool_delete(svc_->io.pool, c);
      fail_call(call, -EMFILE);
      return;
    }
    ++open_;
    shard::ShardCounters::bump(svc_->counters->connections_open);
    shard::ShardCounters::set(svc_->counters->app_connections, open_);
    start_on(c, call);  // the request waits in the connection's output until it connects
    return;
  }
  // Every connection busy: wait in line.
  call->next = nullptr;
  if (wait_tail_) {
    wait_tail_->next = call;
  } else {
    wait_head_ = call;
  }
  wait_tail_ = call;
}

bool HttpAppChannel::append_request_head(mem::Buffer& out, const AppCall& call,
                                         int64_t body_length) const {
  const codec::InvokeRequestView& msg = call.request->message;
  std::string_view verb = http1::verb_name(static_cast<http1::Verb>(msg.http_extension.verb));
  bool ok = out.append(verb) && out.append(" ");
  ok = ok && append_method_path(&out, msg.method);
  if (!msg.http_extension.querystring.empty()) {
    ok = ok && out.append("?") && out.append(msg.http_extension.querystring);
  }
  ok = ok && out.append(" HTTP/1.1\r\nHost: ") && out.append(svc_->settings->app_authority) &&
       out.append("\r\n");

  // Metadata as headers (§5.3); content-length and transfer-encoding keys never pass, the
  // framing below is ours.
  ok = ok && append_metadata_as_http_headers(out, [&](auto&& f) { call.request->for_each_metadata(f); });
  // APP_API_TOKEN, as daprd sends it (a caller's own token never passes: header_rules drops it).
  if (!svc_->settings->app_api_token.empty()) {
    ok = ok && http1::append_header(out, "Dapr-Api-Token", svc_->settings->app_api_token) ==
                   http1::AppendHeader::kOk;
  }

  std::string_view ctype = msg.content_type;
  if (!msg.data.type_url.empty()) ctype = "application/x-protobuf";
  if (!ctype.empty()) {
    ok = ok && http1::append_header(out, "Content-Type", ctype) != http1::AppendHeader::kNoMemory;
  }
  if (body_length < 0) {
    ok = ok && http1::append_header(out, "Transfer-Encoding", "chunked") == http1::AppendHeader::kOk;
  } else if (body_length > 0 || verb_sends_empty_length(msg.http_extension.verb)) {
    ok = ok && http1::append_content_length(out, static_cast<uint64_t>(body_length));
  }
  return ok && http1::append_end_of_head(out);
}

void HttpAppChannel::start_on(Conn* conn, AppCall* call) {
  conn->call = call;
  call->conn = conn;
  conn->head_done = false;
  conn->chunked.reset();
  conn->in.clear();
  conn->tcp->resume_recv();  // a previous streaming call may have left it paused

  mem::Buffer& out = conn->tcp->out();
  const size_t before = out.size();
  bool ok;
  if (call->streaming) {
    // Body bytes sent while the call waited follow the head, a socket batch at a time.
    ok = append_request_head(out, *call, call->body_length);
    call->held.move_to(out, kAppSocketBatchBytes);
    call->queued = out.size() - before;
    if (call->paused) conn->tcp->pause_recv();
  } else {
    std::string_view body = call->request->message.data.value;
    ok = append_request_head(out, *call, static_cast<int64_t>(body.size())) && out.append(body);
  }
  if (!ok) {
    conn->call = nullptr;
    call->conn = nullptr;
    conn->tcp->close();
    fail_call(call, -ENOMEM);
    return;
  }
  conn->tcp->flush();  // a no-op until connected
}

void HttpAppChannel::fail_on_conn(Conn* conn, std::string_view message) {
  AppCall* call = conn->call;
  conn->call = nullptr;
  call->conn = nullptr;
  conn->tcp->close();
  shard::ShardCounters::bump(svc_->counters->app_errors);
  AppCallCompletion* done = call->done;
  svc_->deferred->release(call);
  if (done) done->on_app_error(13, message);
}

void HttpAppChannel::complete_response(Conn* conn) {
  AppCall* call = conn->call;
  while (!conn->head_done) {
    auto st = http1::parse_response_head(conn->in.view(), svc_->settings->max_header_bytes,
                                         call->head_request, &conn->head);
    if (st == http1::ParseStatus::kIncomplete) return;
    if (st == http1::ParseStatus::kError) {
      fail_on_conn(conn, "error invoking app channel: malformed HTTP response");
      return;
    }
    if (conn->head.status >= 100 && conn->head.status < 200 && conn->head.status != 101) {
      conn->in.consume(conn->head.head_size);  // interim response (100 Continue): skip it
      continue;
    }
    conn->head_done = true;
    conn->head_base = conn->in.view().data();
  }
  const http1::ResponseHead& head = conn->head;
  size_t have = conn->in.size() - head.head_size;
  uint64_t limit = svc_->settings->max_body_size;
  switch (head.body_kind) {
    case http1::BodyKind::kNone:
      break;
    case http1::BodyKind::kLength:
      if (head.content_length > limit) {
        fail_on_conn(conn, "error invoking app channel: response body exceeds the max body size");
        return;
      }
      if (have < head.content_length) {
        // Room for the rest at once (our app declared it, within the limit): growing by
        // doubling as it arrives would copy the body about once more (issue 11). finish()
        // rebases the head's views should this move the bytes.
        conn->in.reserve(head.content_length - have);
        return;
      }
      break;
    case http1::BodyKind::kChunked: {
      auto st = conn->chunked.decode(conn->in.data() + head.head_size, have, limit);
      if (st == http1::ParseStatus::kIncomplete) return;
      if (st == http1::ParseStatus::kError) {
        fail_on_conn(conn, "error invoking app channel: malformed chunked response body");
        return;
      }
      break;
    }
    case http1::BodyKind::kUntilClose:
      if (have > limit) {
        fail_on_conn(conn, "error invoking app channel: response body exceeds the max body size");
      }
      return;  // completes when the app closes (conn_closed)
  }
  finish(call, conn, /*conn_alive=*/true);
}

bool HttpAppChannel::encode_response(const http1::ResponseHead& head, std::string_view body,
                                     bool leave_body) {
  // InternalInvokeResponse from the app's answer (§5.5): canonical keys, minus hop-by-hop and
  // Content-Length.
  MetadataBuilder& md = svc_->scratch->metadata;
  md.reset();
  ConnectionTokens connection_tokens;
  std::string_view content_type;
  for (size_t i = 0; i < head.header_count; ++i) {
    if (iequals(head.headers[i].name, "connection")) connection_tokens.add(head.headers[i].value);
  }
  bool ok = true;
  for (size_t i = 0; i < head.header_count && ok; ++i) {
    std::string_view name = head.headers[i].name;
    if (iequals(name, "content-type") && content_type.empty()) content_type = head.headers[i].value;
    if (iequals(name, "content-length") || is_hop_by_hop_header(name) ||
        connection_tokens.names(name)) {
      continue;
    }
    char* key = md.reserve_text(name.size());
    ok = key != nullptr &&
         md.add(http1::canonical_header_key(name, std::span<char>(key, name.size())),
                head.headers[i].value);
  }
  codec::InternalInvokeResponseFields fields;
  fields.status.code = head.status;
  fields.headers = md.build();
  fields.has_message = true;
  fields.message.data.value = body;
  fields.message.content_type = content_type;
  size_t size = codec::encoded_size(fields);
  if (leave_body) size -= codec::body_bytes(fields);
  response_scratch_.clear();
  ok = ok && response_scratch_.reserve(size);
  if (ok) {
    uint8_t* tail = response_scratch_.tail();
    uint8_t* end = leave_body ? codec::encode_all_but_body(fields, tail) : codec::encode(fields, tail);
    response_scratch_.commit(static_cast<size_t>(end - tail));
  }
  return ok;
}

void HttpAppChannel::finish(AppCall* call, Conn* conn, bool conn_alive) {
  // The head was parsed once (complete_response); if `in` grew into a new block since, its
  // views follow it.
  http1::rebase_response_head(&conn->head, conn->head_base, conn->in.view().data());
  const http1::ResponseHead& head = conn->head;
  std::string_view body;
  switch (head.body_kind) {
    case http1::BodyKind::kLength:
      body = conn->in.view().substr(head.head_size, head.content_length);
      break;
    case http1::BodyKind::kChunked:
      body = conn->in.view().substr(head.head_size, conn->chunked.payload_size());
      break;
    case http1::BodyKind::kUntilClose:
      body = conn->in.view().substr(head.head_size);
      break;
    case http1::BodyKind::kNone:
      break;
  }
  AppCallCompletion* done = call->done;
  // Issue 11: a completion that adopts the body gets the message without it and takes conn->in,
  // where the body already is (one copy fewer than encoding it into the message).
  const bool leave_body = done && !body.empty() && done->adopts_response_body();
  bool ok = encode_response(head, body, leave_body);
  bool keep = conn_alive && head.keep_alive && head.body_kind != http1::BodyKind::kUntilClose;
  conn->call = nullptr;
  call->conn = nullptr;
  svc_->deferred->release(call);
  if (done) {
    if (ok && leave_body) {
      const auto offset = static_cast<size_t>(reinterpret_cast<const uint8_t*>(body.data()) - conn->in.data());
      done->on_app_response_adopting(response_scratch_.view(), &conn->in, offset, body.size());
    } else if (ok) {
      done->on_app_response(response_scratch_.view());
    } else {
      done->on_app_error(8, "error invoking app channel: response headers too large");
    }
  }
  response_scratch_.clear();
  // A large answer's block goes back to the shard pool: an idle connection does not keep it,
  // so the blocks of that size number the large answers in flight at once, not the connections
  // that ever carried one (which a later call could grow anew past the warm-up's high-water
  // mark, an allocation on the request path).
  conn->in.clear_keeping(kKeptInputBytes);
  conn->head_done = false;
  if (!conn_alive) return;
  if (keep && !shutting_down_ && !conn->tcp->closing()) {
    serve_waiting(conn);
  } else {
    conn->tcp->close();
  }
}

void HttpAppChannel::serve_waiting(Conn* conn) {
  if (wait_head_) {
    AppCall* next = wait_head_;
    wait_head_ = next->next;
    if (!wait_head_) wait_tail_ = nullptr;
    next->next = nullptr;
    start_on(conn, next);
    return;
  }
  conn->idle = true;
  conn->next_idle = idle_;
  idle_ = conn;
}

void HttpAppChannel::unlink_waiting(AppCall* call) {
  AppCall* prev = nullptr;
  for (AppCall** p = &wait_head_; *p; prev = *p, p = &(*p)->next) {
    if (*p != call) continue;
    *p = call->next;
    if (wait_tail_ == call) wait_tail_ = prev;
    call->next = nullptr;
    return;
  }
}

void HttpAppChannel::conn_closed(Conn* conn, int err) {
  --open_;
  shard::ShardCounters::drop(svc_->counters->connections_open);
  shard::ShardCounters::set(svc_->counters->app_connections, open_);
  if (conn->idle) {
    for (Conn** p = &idle_; *p; p = &(*p)->next_idle) {
      if (*p == conn) {
        *p = conn->next_idle;
        break;
      }
    }
  }
  if (AppCall* call = conn->call) {
    if (call->streaming) {
      call->conn = nullptr;
      conn->call = nullptr;
      stream_conn_lost(call, err);
    } else if (conn->head_done && conn->head.body_kind == http1::BodyKind::kUntilClose) {
      finish(call, conn, /*conn_alive=*/false);  // the close ends the body
    } else {
      call->conn = nullptr;
      conn->call = nullptr;
      fail_call(call, err ? err : -ECONNRESET);
    }
  }
  svc_->deferred->release(conn);
  // A slot freed up: dial for the next waiting call.
  if (wait_head_ && !shutting_down_) {
    AppCall* next = wait_head_;
    wait_head_ = next->next;
    if (!wait_head_) wait_tail_ = nullptr;
    next->next = nullptr;
    assign(next);
  }
}

void HttpAppChannel::fail_call(AppCall* call, int err) {
  InvokeScratch* s = svc_->scratch;
  int n = snprintf(s->text, sizeof s->text, "error invoking app channel: dial tcp %s: %.*s",
                   svc_->settings->app_authority.c_str(),
                   static_cast<int>(errno_text(err).size()), errno_text(err).data());
  std::string_view text(s->text, n > 0 ? static_cast<size_t>(n) : 0);
  if (call->streaming) {
    fail_stream(call, 13, text);
    return;
  }
  shard::ShardCounters::bump(svc_->counters->app_errors);
  AppCallCompletion* done = call->done;
  svc_->deferred->release(call);
  if (done) done->on_app_error(13, text);
}

void HttpAppChannel::cancel(AppCall* call) {
  if (!call) return;
  if (call->streaming) {
    // Half a request or half an answer is on the connection: it cannot be reused.
    if (call->finished) return;
    call->stream = nullptr;
    call->finished = true;
    if (call->conn) {
      detach(call, /*reuse=*/false);
    } else {
      unlink_waiting(call);
    }
    svc_->deferred->release(call);  // a delivery loop may still be using it
    return;
  }
  if (call->conn) {
    // Issue 10 (res): as Go's client when daprd cancels a request (caller gone, a Resiliency
    // timeout): the connection is closed, so a hung app does not hold it until it answers.
    call->done = nullptr;
    detach(call, /*reuse=*/false);
    svc_->deferred->release(call);
    return;
  }
  // Still waiting for a connection: unlink and free.
  AppCall** p = &wait_head_;
  AppCall* prev = nullptr;
  while (*p && *p != call) {
    prev = *p;
    p = &(*p)->next;
  }
  if (*p) {
    *p = call->next;
    if (wait_tail_ == call) wait_tail_ = prev;
    svc_->deferred->release(call);
  } else {
    call->done = nullptr;
  }
}

void HttpAppChannel::shutdown() {
  shutting_down_ = true;
  while (idle_) {
    Conn* c = idle_;
    idle_ = c->next_idle;
    c->idle = false;
    c->tcp->close();
  }
}

}  // namespace ringside::invoke
