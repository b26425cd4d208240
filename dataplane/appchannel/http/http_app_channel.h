#pragma once
// HttpAppChannel: delivers invocations to our app over HTTP/1.1 (spec §4.4, §5.3, §5.5).
//
// Per shard: a pool of keep-alive connections to --app-channel-address:--app-port, one request
// at a time on each (no pipelining toward apps). Calls wait in FIFO order when every allowed
// connection is busy. Every per-call and per-connection object comes from the shard pool.
//
// Unary calls (http_app_channel.cc) write the whole request and collect the whole answer.
// Streaming calls (http_app_stream.cc) write the head at once, then body pieces as they are
// sent (Content-Length when the size is known, else chunked framing), and hand the answer on as
// a head and body pieces read straight off the socket; pause_response() stops reading the
// socket, so a slow reader back-pressures the app through TCP.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/http1/response_parser.h"
#include "dataplane/appchannel/app_channel.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/mem/buffer.h"

namespace ringside::invoke {

// Request bytes a streaming call gives the app socket at a time; the rest waits in the call's
// PooledByteQueue until the socket drained (keeps the socket's buffers small).
inline constexpr size_t kAppSocketBatchBytes = size_t{256} << 10;

class HttpAppChannel final : public AppChannel {
 public:
  explicit HttpAppChannel(ShardServices* svc);
  ~HttpAppChannel() override;

  AppCall* invoke(const codec::InternalInvokeRequestView& request, AppCallCompletion* done) override;
  void cancel(AppCall* call) override;
  void shutdown() override;

  bool streams() const override { return true; }
  AppCall* invoke_stream(const codec::InternalInvokeRequestView& request, int64_t body_length,
                         AppStreamCompletion* done) override;
  bool send_request_body(AppCall* call, std::span<const uint8_t> bytes) override;
  size_t request_queued(const AppCall* call) const override;
  void end_request_body(AppCall* call) override;
  void pause_response(AppCall* call) override;
  void resume_response(AppCall* call) override;

  struct Conn;  // one keep-alive connection to the app (http_app_call.h)

 private:
  friend struct Conn;

  // ---- both kinds (http_app_channel.cc) ----
  // 0 when the request can go to an HTTP app, else the gRPC code with *message.
  int check_request(const codec::InternalInvokeRequestView& request, std::string_view* message) const;
  void assign(AppCall* call);
  // Writes the call's request head (and a unary call's body, a streaming call's held body).
  void start_on(Conn* conn, AppCall* call);
  // Request line and headers; body_length >= 0: Content-Length framing, -1: chunked.
  bool append_request_head(mem::Buffer& out, const AppCall& call, int64_t body_length) const;
  // The InternalInvokeResponse for a response head and body (§5.5) into response_scratch_.
  // False when the headers do not fit the scratch.
  // leave_body: the body is encoded last and left out (codec::encode_all_but_body).
  bool encode_response(const http1::ResponseHead& head, std::string_view body, bool leave_body = false);
  void conn_closed(Conn* conn, int err);
  void fail_call(AppCall* call, int err);
  void serve_waiting(Conn* conn);
  // Takes a call off the wait queue (no-op if it is not there).
  void unlink_waiting(AppCall* call);

  // ---- unary calls (http_app_channel.cc) ----
  void finish(AppCall* call, Conn* conn, bool conn_alive);
  void fail_on_conn(Conn* conn, std::string_view message);
  void complete_response(Conn* conn);

  // ---- streaming calls (http_app_stream.cc) ----
  void stream_data(Conn* conn, std::span<const uint8_t> bytes);
  void stream_drained(Conn* conn);
  // The connection of a streaming call closed (err: 0 or -errno).
  void stream_conn_lost(AppCall* call, int err);
  // Parses the response head from conn->in; once complete, reports it and drains the body.
  void read_stream_head(Conn* conn, AppCall* call);
  // Length / until-close body bytes straight from the socket (nothing stashed, not paused).
  void pass_through(AppCall* call, std::span<const uint8_t> bytes);
  // Hands on what the stash holds while not paused; reports the end or a framing error.
  void drain(AppCall* call);
  void deliver_body(AppCall* call, std::span<const uint8_t> bytes);
  // Last callbacks: the answer is complete / the call failed. The connection is reused or
  // closed; the call is freed once no channel frame uses it.
  void end_stream(AppCall* call, bool trailing_garbage);
  void fail_stream(AppCall* call, int grpc_code, std::string_view message);
  void fail_request_length(AppCall* call);
  // Queues framed request bytes: into the socket while it holds less than a batch and nothing
  // waits, else behind what waits. False when the pool is empty.
  bool queue_request_bytes(AppCall* call, std::span<const uint8_t> bytes);
  // Gives the connection back (reuse) or closes it.
  void detach(AppCall* call, bool reuse);

  ShardServices* svc_;
  Conn* idle_ = nullptr;           // idle connections (singly linked)
  AppCall* wait_head_ = nullptr;   // calls waiting for a connection, FIFO
  AppCall* wait_tail_ = nullptr;
  uint32_t open_ = 0;              // connections open or being dialled
  bool shutting_down_ = false;
  mem::Buffer response_scratch_;   // encoded InternalInvokeResponse handed to completions
};

}  // namespace ringside::invoke
