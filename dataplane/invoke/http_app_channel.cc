#include "dataplane/invoke/http_app_channel.h"

#include <cerrno>
#include <cstring>

#include "dataplane/http1/canonical_header_key.h"
#include "dataplane/http1/number.h"
#include "dataplane/http1/verb.h"
#include "dataplane/http1/writer.h"
#include "dataplane/invoke/header_rules.h"
#include "dataplane/invoke/invoke_scratch.h"
#include "dataplane/invoke/metadata_headers.h"
#include "dataplane/invoke/path_escape.h"
#include "dataplane/invoke/sidecar_settings.h"
#include "dataplane/mem/pool_object.h"
#include "dataplane/shard/shard_counters.h"

namespace ringside::invoke {

// One invocation on its way to the app.
struct AppCall {
  AppCallCompletion* done = nullptr;                  // nullptr once cancelled
  const codec::InternalInvokeRequestView* request = nullptr;  // valid until completion/cancel
  HttpAppChannel::Conn* conn = nullptr;               // connection carrying it, if any
  AppCall* next = nullptr;                            // wait-queue link
  bool head_request = false;                          // HEAD: the response has no body
};

// One keep-alive connection to the app.
struct HttpAppChannel::Conn final : io::TcpConnection::Handler {
  HttpAppChannel* channel;
  io::TcpConnection* tcp = nullptr;
  mem::Buffer in;                 // response bytes received so far
  AppCall* call = nullptr;        // the call in flight on this connection
  Conn* next_idle = nullptr;      // idle-list link
  http1::ResponseHead head;       // parsed response head (views into `in`)
  http1::ChunkedDecoder chunked;  // for chunked responses
  bool head_done = false;         // head parsed for the current response
  bool ready = false;             // connected
  bool idle = false;              // on the idle list

  Conn(HttpAppChannel* ch, mem::ShardPool* pool) : channel(ch), in(pool) {}

  void on_connected(io::TcpConnection&, int err) override {
    if (err) return;  // on_closed follows and fails the call
    ready = true;
    if (call) channel->start_on(this, call);
  }
  void on_data(io::TcpConnection&, std::span<const uint8_t> bytes) override {
    if (!call) {  // unsolicited bytes from the app: protocol error
      tcp->close();
      return;
    }
    if (!in.append(bytes.data(), bytes.size())) {
      tcp->close();
      return;
    }
    channel->complete_response(this);
  }
  void on_closed(io::TcpConnection&, int err) override { channel->conn_closed(this, err); }
};

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

}  // namespace

HttpAppChannel::HttpAppChannel(ShardServices* svc)
    : svc_(svc), response_scratch_(svc->io.pool) {}

HttpAppChannel::~HttpAppChannel() = default;

AppCall* HttpAppChannel::invoke(const codec::InternalInvokeRequestView& request,
                                AppCallCompletion* done) {
  const auto& ext = request.message.http_extension;
  if (!ext.present) {
    done->on_app_error(3, "missing HTTP extension field");
    return nullptr;
  }
  if (ext.verb <= 0 || ext.verb == 6 || ext.verb > 9) {
    done->on_app_error(3, "invalid HTTP verb");
    return nullptr;
  }
  if (shutting_down_) {
    done->on_app_error(13, "error invoking app channel: sidecar is shutting down");
    return nullptr;
  }
  AppCall* call = mem::pool_new<AppCall>(svc_->io.pool);
  if (!call) {
    done->on_app_error(8, "error invoking app channel: out of memory");
    return nullptr;
  }
  call->done = done;
  call->request = &request;
  call->head_request = ext.verb == 2;
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
    c->call = call;
    call->conn = c;
    return;  // on_connected starts it
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

void HttpAppChannel::start_on(Conn* conn, AppCall* call) {
  conn->call = call;
  call->conn = conn;
  conn->head_done = false;
  conn->chunked.reset();
  conn->in.clear();
  if (!conn->ready) return;

  const codec::InvokeRequestView& msg = call->request->message;
  mem::Buffer& out = conn->tcp->out();
  std::string_view verb = http1::verb_name(static_cast<http1::Verb>(msg.http_extension.verb));
  bool ok = out.append(verb) && out.append(" ");
  ok = ok && append_method_path(&out, msg.method);
  if (!msg.http_extension.querystring.empty()) {
    ok = ok && out.append("?") && out.append(msg.http_extension.querystring);
  }
  ok = ok && out.append(" HTTP/1.1\r\nHost: ") && out.append(svc_->settings->app_authority) &&
       out.append("\r\n");

  // Metadata as headers (§5.3).
  ok = ok && append_metadata_as_http_headers(out, [&](auto&& f) { call->request->for_each_metadata(f); });

  std::string_view ctype = msg.content_type;
  if (!msg.data.type_url.empty()) ctype = "application/x-protobuf";
  if (!ctype.empty()) {
    ok = ok && http1::append_header(out, "Content-Type", ctype) != http1::AppendHeader::kNoMemory;
  }
  std::string_view body = msg.data.value;
  int verb_id = msg.http_extension.verb;
  if (!body.empty() || verb_id == 3 || verb_id == 4 || verb_id == 9) {
    ok = ok && http1::append_content_length(out, body.size());
  }
  ok = ok && out.append("\r\n") && out.append(body);
  if (!ok) {
    conn->call = nullptr;
    call->conn = nullptr;
    conn->tcp->close();
    fail_call(call, -ENOMEM);
    return;
  }
  conn->tcp->flush();
}

void HttpAppChannel::fail_on_conn(Conn* conn, std::string_view message) {
  AppCall* call = conn->call;
  conn->call = nullptr;
  call->conn = nullptr;
  conn->tcp->close();
  shard::ShardCounters::bump(svc_->counters->app_errors);
  AppCallCompletion* done = call->done;
  mem::pool_delete(svc_->io.pool, call);
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
      if (have < head.content_length) return;
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

void HttpAppChannel::finish(AppCall* call, Conn* conn, bool conn_alive) {
  // The head's views may predate a reallocation of `in`: parse it again (cheap, bounded).
  http1::parse_response_head(conn->in.view(), svc_->settings->max_header_bytes, call->head_request,
                             &conn->head);
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
  response_scratch_.clear();
  ok = ok && response_scratch_.reserve(size);
  if (ok) {
    codec::encode(fields, response_scratch_.tail());
    response_scratch_.commit(size);
  }
  bool keep = conn_alive && head.keep_alive && head.body_kind != http1::BodyKind::kUntilClose;
  conn->call = nullptr;
  call->conn = nullptr;
  AppCallCompletion* done = call->done;
  mem::pool_delete(svc_->io.pool, call);
  if (done) {
    if (ok) {
      done->on_app_response(response_scratch_.view());
    } else {
      done->on_app_error(8, "error invoking app channel: response headers too large");
    }
  }
  response_scratch_.clear();
  conn->in.clear();
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

void HttpAppChannel::conn_closed(Conn* conn, int err) {
  --open_;
  shard::ShardCounters::drop(svc_->counters->connections_open);
  if (conn->idle) {
    for (Conn** p = &idle_; *p; p = &(*p)->next_idle) {
      if (*p == conn) {
        *p = conn->next_idle;
        break;
      }
    }
  }
  if (AppCall* call = conn->call) {
    if (conn->head_done && conn->head.body_kind == http1::BodyKind::kUntilClose) {
      finish(call, conn, /*conn_alive=*/false);  // the close ends the body
    } else {
      call->conn = nullptr;
      conn->call = nullptr;
      fail_call(call, err ? err : -ECONNRESET);
    }
  }
  mem::pool_delete(svc_->io.pool, conn);
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
  shard::ShardCounters::bump(svc_->counters->app_errors);
  AppCallCompletion* done = call->done;
  mem::pool_delete(svc_->io.pool, call);
  if (!done) return;
  InvokeScratch* s = svc_->scratch;
  int n = snprintf(s->text, sizeof s->text, "error invoking app channel: dial tcp %s: %.*s",
                   svc_->settings->app_authority.c_str(),
                   static_cast<int>(errno_text(err).size()), errno_text(err).data());
  done->on_app_error(13, std::string_view(s->text, n > 0 ? static_cast<size_t>(n) : 0));
}

void HttpAppChannel::cancel(AppCall* call) {
  if (!call) return;
  if (call->conn) {
    call->done = nullptr;  // the response is read and dropped; the connection stays usable
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
    mem::pool_delete(svc_->io.pool, call);
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
