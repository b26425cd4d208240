#pragma once
// TcpConnection: one TCP socket driven by the shard's io_uring; the plaintext ByteStream.
//
// Input: one multishot recv with provided buffers; each completion hands the handler a view of
// the received bytes, valid only during on_data (copy what must outlive it).
// Output: handlers append to out() and call flush(). With a FlushList in the IoContext (the
// shard's), flush() only marks the connection dirty and the send starts when the shard loop runs
// the list at the end of its turn: every frame one turn produced leaves in one send. Without one
// (tools, some tests) the send starts at once. At most one send is in flight; bytes appended
// meanwhile wait in a second buffer and go out in one send when the first completes.
// Back-pressure: pause_recv() stops reading (the kernel's receive buffer then fills and TCP
// closes the peer's window); bytes already on their way may still reach on_data once, after
// which nothing arrives until resume_recv().
// Lifetime: close() shuts the socket down; once every in-flight operation has completed the
// fd is closed, on_closed() runs (the last callback) and the object returns to the shard pool.
#include <netinet/in.h>

#include <cstdint>
#include <span>

#include "dataplane/io/byte_stream.h"
#include "dataplane/io/flush_list.h"
#include "dataplane/io/io_context.h"
#include "dataplane/io/operation.h"
#include "dataplane/mem/buffer.h"

namespace ringside::io {

class TcpConnection final : public ByteStream {
 public:
  // Takes ownership of an accepted socket and starts receiving.
  static TcpConnection* adopt(IoContext* io, int fd, Handler* handler);
  // Starts a non-blocking connect; on_connected reports the outcome.
  // `peer` is an IPv4 or IPv6 socket address of `len` bytes.
  static TcpConnection* dial(IoContext* io, const sockaddr* peer, socklen_t len, Handler* handler);
  static TcpConnection* dial(IoContext* io, const sockaddr_in& peer, Handler* handler) {
    return dial(io, reinterpret_cast<const sockaddr*>(&peer), sizeof peer, handler);
  }

  mem::Buffer& out() override { return pending_; }
  void flush() override;
  // Flushes what is queued, then closes.
  void close_after_flush() override;
  // Stops I/O now; queued output is dropped.
  void close() override;

  // Stops / restarts reading (idempotent). A recv completion already queued still arrives.
  void pause_recv() override;
  void resume_recv() override;
  bool recv_paused() const { return recv_paused_; }

  bool connected() const { return connected_; }
  bool closing() const override { return closing_; }
  bool send_idle() const { return !send_inflight_ && pending_.empty(); }
  // Output bytes not yet written to the socket (queued and in flight): what a writer watches
  // to stop producing when the peer reads slowly.
  size_t queued_bytes() const override { return pending_.size() + sending_.size(); }
  void keep_send_buffers_up_to(size_t bytes) override { kept_send_bytes_ = bytes; }
  int fd() const { return fd_; }
  // Sends submitted so far (short-write continuations included): what batching saves.
  uint64_t sends_started() const { return sends_started_; }
  void set_handler(Handler* h) { handler_ = h; }

 private:
  TcpConnection(IoContext* io, int fd, Handler* handler);
  ~TcpConnection() = default;
  friend void destroy_connection(TcpConnection*);

  static void on_recv_cqe(void* self, int32_t res, uint32_t flags);
  static void on_send_cqe(void* self, int32_t res, uint32_t flags);
  static void on_connect_cqe(void* self, int32_t res, uint32_t flags);
  static void on_close_cqe(void* self, int32_t res, uint32_t flags);
  void arm_recv();
  void rearm_recv();  // arms the recv unless closing, paused or already armed
  void start_send();
  // Starts the send now, or at the end of the turn when the shard has a FlushList.
  void schedule_send();
  // The FlushList's callback: starts the send if there is still something to send.
  static void on_turn_end(void* self);
  void fail(int err);
  // Ends the connection once closing and nothing is in flight; called only at the end of a
  // completion handler, so never while a handler callback is on the stack.
  void maybe_finish();

  IoContext* io_;
  int fd_;
  Handler* handler_;
  sockaddr_storage peer_{};    // dial target; the connect SQE points at it
  socklen_t peer_len_ = 0;     // its length
  mem::Buffer pending_;        // appended by the handler
  mem::Buffer sending_;        // owned by the in-flight send
  size_t kept_send_bytes_ = size_t{64} << 10;  // idle send buffers up to this stay (keep_send_buffers_up_to)
  Operation recv_op_;
  Operation send_op_;
  Operation connect_op_;
  FlushList::Node flush_node_;  // on io_->flushes while output waits for the turn's end
  Operation close_op_;         // a NOP that lets a close with nothing in flight finish later
  uint64_t sends_started_ = 0; // send SQEs prepared (sends_started())
  int inflight_ = 0;           // submitted operations not yet completed for good
  int close_err_ = 0;          // first error seen
  bool connected_ = false;
  bool recv_armed_ = false;
  bool recv_paused_ = false;   // pause_recv(): do not (re-)arm the recv
  bool cancel_sent_ = false;   // a cancel of the armed recv is in flight
  bool send_inflight_ = false;
  bool closing_ = false;
  bool close_after_flush_ = false;
  bool finished_ = false;
};

}  // namespace ringside::io
