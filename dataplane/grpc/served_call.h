#pragma once
// ServedCall and CallHost: a call being served on a GrpcServerConnection, and the connection
// that hosts it. The gRPC ports (ingress/) host calls; what serves them (callee/ for CallLocal
// and CallLocalStream, proxy/ for proxied calls, ingress/grpc for InvokeService) sees only these
// two interfaces, never the connection class, so those folders do not include each other.
//
// Life of a call: the host links it when it starts; the call answers through host->server()
// and host->flush(), and ends with host->release(this). A call reset by the caller (or on a
// connection that closed) gets on_inbound_cancelled() and is released by the host. Released
// calls are destroyed at the end of the loop turn, so a call may release itself from anywhere,
// including from inside its own callbacks.
#include <cstdint>
#include <span>

#include "dataplane/grpc/server_connection.h"
#include "dataplane/tls/spiffe_id.h"

namespace ringside::grpc {

class ServedCall {
 public:
  explicit ServedCall(CallId id) : id_(id) {}
  virtual ~ServedCall() = default;
  ServedCall(const ServedCall&) = delete;
  ServedCall& operator=(const ServedCall&) = delete;

  CallId id() const { return id_; }

  // Stream-mode events of the inbound call (unary calls never get them). The call consume()s
  // received bytes on host->server() once it has forwarded them (back-pressure).
  virtual void on_inbound_data(std::span<const uint8_t> bytes) { (void)bytes; }
  virtual void on_inbound_half_close() {}
  virtual void on_inbound_writable() {}
  // The caller reset the call or its connection is gone: stop whatever runs for it and answer
  // nothing. The host releases the call afterwards.
  virtual void on_inbound_cancelled() = 0;

  // Host bookkeeping.
  ServedCall* next = nullptr;  // host's list of calls
  ServedCall* prev = nullptr;
  bool released = false;       // unlinked, waiting for the end of the loop turn

 private:
  CallId id_;  // the call on the host's server connection
};

class CallHost {
 public:
  // The server half to answer on.
  virtual GrpcServerConnection& server() = 0;
  // Output was queued on server(): send it.
  virtual void flush() = 0;
  // The call is over: no more events reach it; it is destroyed at the end of the loop turn.
  // Releasing twice is harmless.
  virtual void release(ServedCall* call) = 0;
  // The caller's SPIFFE ID from its mTLS certificate (issue 10); nullptr without mTLS. Valid
  // while the call is being started (copy what must outlive that).
  virtual const tls::SpiffeId* caller_identity() const { return nullptr; }

 protected:
  ~CallHost() = default;
};

}  // namespace ringside::grpc
