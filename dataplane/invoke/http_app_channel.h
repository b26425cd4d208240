#pragma once
// HttpAppChannel: delivers invocations to our app over HTTP/1.1 (spec §4.4, §5.3, §5.5).
//
// Per shard: a pool of keep-alive connections to --app-channel-address:--app-port, one request
// at a time on each (no pipelining toward apps). Calls wait in FIFO order when every allowed
// connection is busy. Every per-call and per-connection object comes from the shard pool.
#include <cstdint>

#include "dataplane/http1/chunked_decoder.h"
#include "dataplane/http1/response_parser.h"
#include "dataplane/invoke/app_channel.h"
#include "dataplane/invoke/shard_services.h"
#include "dataplane/io/tcp_connection.h"
#include "dataplane/mem/buffer.h"

namespace ringside::invoke {

class HttpAppChannel final : public AppChannel {
 public:
  explicit HttpAppChannel(ShardServices* svc);
  ~HttpAppChannel() override;

  AppCall* invoke(const codec::InternalInvokeRequestView& request, AppCallCompletion* done) override;
  void cancel(AppCall* call) override;
  void shutdown() override;

  struct Conn;  // one keep-alive connection to the app

 private:
  friend struct Conn;
  void assign(AppCall* call);
  void start_on(Conn* conn, AppCall* call);
  void finish(AppCall* call, Conn* conn, bool conn_alive);
  void fail_on_conn(Conn* conn, std::string_view message);
  void conn_closed(Conn* conn, int err);
  void complete_response(Conn* conn);
  void fail_call(AppCall* call, int err);
  void serve_waiting(Conn* conn);

  ShardServices* svc_;
  Conn* idle_ = nullptr;           // idle connections (singly linked)
  AppCall* wait_head_ = nullptr;   // calls waiting for a connection, FIFO
  AppCall* wait_tail_ = nullptr;
  uint32_t open_ = 0;              // connections open or being dialled
  bool shutting_down_ = false;
  mem::Buffer response_scratch_;   // encoded InternalInvokeResponse handed to completions
};

}  // namespace ringside::invoke
