#pragma once
// HttpIngressConnection: one client connection on the Dapr HTTP API port (spec §4.1, §9).
//
// Requests are parsed in place from the connection's input buffer and answered strictly in
// order: while one invocation is in flight, later pipelined bytes simply accumulate. The
// invocation state lives in this object (one per connection), so a forwarded request needs no
// allocation of its own.
//
//   kHead ──head parsed──► kBody ──body complete──► kBusy ──response written──► kHead
//                                   (or straight to kBusy when there is no body)
#include <cstdint>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/http1/chunked_decoder.h"
#include "dataplane/http1/request_parser.h"
#include "dataplane/invoke/app_channel.h"
#include "dataplane/invoke/invocation.h"
#include "dataplane/invoke/shard_services.h"
#include "dataplane/invoke/target.h"
#include "dataplane/io/tcp_connection.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/pool/peer_pool.h"
#include "dataplane/shard/timer_list.h"

namespace ringside::invoke {

class HttpIngressConnection final : public io::TcpConnection::Handler,
                                    public InvocationOwner {
 public:
  // Adopts an accepted socket.
  static HttpIngressConnection* accept(ShardServices* svc, int fd);
  // Shutdown: close now if idle, else after the current response.
  void drain();
  // Forced shutdown: close now, whatever is in flight.
  void close_now() { if (tcp_) tcp_->close(); }

  // io::TcpConnection::Handler
  void on_data(io::TcpConnection& c, std::span<const uint8_t> bytes) override;
  void on_drained(io::TcpConnection& c) override;
  void on_closed(io::TcpConnection& c, int err) override;
  // InvocationOwner
  void on_invocation_response(std::string_view internal_invoke_response) override;
  void on_invocation_error(int grpc_code, std::string_view error_text) override;

  HttpIngressConnection* next_live = nullptr;  // shard's live-connection list links
  HttpIngressConnection* prev_live = nullptr;

  explicit HttpIngressConnection(ShardServices* svc);

 private:
  enum class State { kHead, kBody, kBusy };

  void process();
  bool body_complete();
  void dispatch();
  void invoke();
  void respond_invoke(std::string_view internal_invoke_response);
  void respond_simple(int status, std::string_view content_type, std::string_view body);
  void respond_dapr_error(int status, std::string_view code, std::string_view message);
  void respond_invoke_error(int status, std::string_view error_text);
  void fail_protocol(int status);
  void finish_request();
  bool build_request_message(const InvokeTarget& t, bool self_call, std::string_view body);
  std::string_view target_id() const { return target_.view(); }

  ShardServices* svc_;
  io::TcpConnection* tcp_ = nullptr;
  mem::Buffer in_;                 // received bytes: current request, then pipelined ones
  http1::RequestHead head_;        // current request head (views into in_; re-parsed if in_ moved)
  http1::ChunkedDecoder chunked_;  // current chunked body
  State state_ = State::kHead;
  const uint8_t* parsed_at_ = nullptr;  // in_.data() when head_ was parsed
  uint64_t body_size_ = 0;         // payload bytes of the current body
  size_t request_size_ = 0;        // head + body framing bytes of the current request
  bool continue_sent_ = false;     // "100 Continue" answered for this request
  bool keep_alive_ = true;         // keep the connection after this response
  bool head_method_ = false;       // HEAD: no body in the response
  bool draining_ = false;          // shutdown asked: close after this response
  bool in_process_ = false;        // process() is on the stack (no re-entry)

  // The invocation in flight (kBusy).
  Invocation invocation_;          // resolve, CallLocal or self-call, built-in retry
  mem::Buffer target_;             // target id as the client wrote it (error messages)
};

}  // namespace ringside::invoke
