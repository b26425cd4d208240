#pragma once
// Invocation: one service invocation on the caller side, whatever API it came from (HTTP
// /v1.0/invoke, gRPC InvokeService). Given an encoded InternalInvokeRequest it resolves the
// target from the current InstanceTable, picks an instance (round robin), sends CallLocal on
// the pinned peer connection, applies the built-in retry (spec §6.1: 3 x 1 s, only for calls
// the peer provably did not process), or delivers a self-call straight to the app channel.
// The owner gets exactly one outcome. Issue 10 (res): a Resiliency policy for the target app id
// (SidecarSettings::resiliency) adds a per-attempt timeout, its own retries (replacing the
// built-in one) and a circuit breaker per <appId>:<method> (docs/resiliency.md).
#include <cstdint>
#include <string_view>

#include "dataplane/codec/invoke_messages.h"
#include "dataplane/appchannel/app_channel.h"
#include "dataplane/caller/broadcast_call.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/mem/buffer.h"
#include "dataplane/mem/buffer_slice.h"
#include "dataplane/upstream/lb/picker.h"
#include "dataplane/upstream/peer_pool.h"
#include "dataplane/runtime/timer_list.h"
#include "dataplane/resiliency/circuit_breakers.h"  // issue 10 (res)
#include "dataplane/resiliency/policies.h"          // issue 10 (res)

namespace ringside::invoke {

class InvocationOwner {
 public:
  virtual ~InvocationOwner() = default;
  // The callee answered: an encoded InternalInvokeResponse, valid only during the call.
  virtual void on_invocation_response(std::string_view internal_invoke_response) = 0;
  // No answer: the gRPC code the failure maps to (-1: name resolution failed) and daprd's
  // error text, e.g. "rpc error: code = Unavailable desc = ..." or "failed to invoke target b
  // after 3 retries. Error: ...". The API layer wraps it ("failed to invoke, id: b, err: ...").
  virtual void on_invocation_error(int grpc_code, std::string_view error_text) = 0;
};

class Invocation final : public upstream::PeerCall,
                         public AppCallCompletion,
                         public shard::ParkedCall,
                         public BroadcastOwner {
 public:
  explicit Invocation(ShardServices* svc);
  ~Invocation() override;
  Invocation(const Invocation&) = delete;
  Invocation& operator=(const Invocation&) = delete;

  // Where the caller encodes the InternalInvokeRequest before start(); kept for retries.
  mem::Buffer& request() { return request_; }
  // Encodes `fields` into request(); false when the shard pool cannot hold it.
  bool encode_request(const codec::InternalInvokeRequestFields& fields);
  // Issue 11 (one copy of the body fewer): encodes `fields` with the body last and leaves the
  // body (fields.message.data.value, bytes of `body_owner`) where it is; a call to a peer
  // sends it from there. body_owner must keep those bytes at their offset (appending is fine,
  // mem::BufferSlice) until the outcome is delivered or cancel(). Self-invocations, broadcasts
  // and circuit-breaker keys, which want the message in one piece, append the body then.
  bool encode_request_leaving_body(const codec::InternalInvokeRequestFields& fields,
                                   const mem::Buffer& body_owner);
  // Starts the invocation of app_id (namespace ns, "" = ours). `replayable`: the request may be
  // sent again (known-length body). The outcome may be delivered before start() returns.
  void start(std::string_view app_id, std::string_view ns, bool self_call, bool replayable,
             InvocationOwner* owner);
  // The consistent-hash key of the next start() (upstream/request_hash_key.h; 0 = none). Set
  // before every start(): it is kept across the call's retries, not reset by start().
  void set_hash_key(uint64_t key) { hash_key_ = key; }
  // The owner lost interest (client gone): nothing is delivered afterwards.
  void cancel();
  // The caller's deadline (gRPC API grpc-timeout), absolute monotonic ns; 0 = none (the peer
  // pool's default applies). Each attempt sends what is left of it as grpc-timeout.
  void set_deadline(int64_t deadline_ns) { deadline_ns_ = deadline_ns; }
  // Stop retrying (shutdown): a pending retry fails at its next decision.
  void stop_retrying() { no_more_retries_ = true; }
  bool active() const { return owner_ != nullptr; }
  std::string_view app_id() const { return target_.view().substr(0, app_id_len_); }
  // After the outcome: whether the call was a broadcast (cluster strategy `broadcast`) and how
  // many instances received it (the ringside-broadcast-instances header / trailer).
  bool broadcast() const { return broadcast_used_; }
  uint32_t broadcast_instances() const { return broadcast_received_; }
  // Releases big buffers back to the shard pool after the owner is done with the result.
  void recycle(size_t keep_bytes);

  // upstream::PeerCall
  void on_peer_result(const grpc::UnaryResult& r) override;
  // shard::ParkedCall (the target app id was being looked up)
  void on_table_changed() override { attempt(); }
  void on_park_timeout() override;
  // AppCallCompletion (self-invocation)
  void on_app_response(std::string_view internal_invoke_response) override;
  void on_app_error(int grpc_code, std::string_view message) override;
  // BroadcastOwner
  void on_broadcast_response(std::string_view internal_invoke_response, uint32_t received) override;
  void on_broadcast_error(std::string_view error_text, uint32_t received) override;

 private:
  void attempt();
  // The whole encoded request in request_ (appends a body left in place); false without pool
  // memory.
  bool join_request();
  // choose_peer said the app id's strategy is broadcast: the call fans out to
  // broadcast_targets() (the request buffer goes with it), or fails naming the strategy when no
  // instance is usable.
  void start_broadcast(const PeerChoice& peer);
  // Tells the picker the call to instance_ ended (once per noted start).
  void end_noted_call(lb::CallOutcome outcome);
  static void on_retry_timer(void* self);
  // `raw`: deliver `message` as it is (daprd's "context deadline exceeded"), not as an rpc error.
  void fail(int grpc_code, std::string_view message, bool retryable, bool raw = false);
  // Issue 10 (res): one attempt under the policy: circuit breaker admission, the attempt's
  // timeout, then attempt().
  void begin_attempt();
  static void on_attempt_timeout(void* self);
  // The attempt's outcome for the circuit breaker (once per admission).
  void note_breaker(bool success);
  // The user retry policy allows another attempt now (count, body, shutdown).
  // One attempt of a self-invocation: straight to our app over the app channel.
  void attempt_self();
  // The policy's view of an app answer (an HTTP status <200 or >399 fails); true when it
  // scheduled a retry.
  bool app_response_failed(std::string_view internal_invoke_response);
  // Whether the user policy allows another retry; draws its wait into next_delay_ns_.
  bool policy_retry_left();
  // A uniform 64-bit value (retry jitter); per-thread state, no allocation.
  static uint64_t next_random();
  void schedule_policy_retry();
  void deliver_error(int grpc_code, std::string_view text);
  InvocationOwner* finish();

  ShardServices* svc_;
  InvocationOwner* owner_ = nullptr;     // set while the invocation runs
  mem::Buffer request_;                  // encoded InternalInvokeRequest (up to body_) ...
  mem::BufferSlice body_;                // ... and its body, left in the caller's buffer
  mem::Buffer target_;                   // app id followed by namespace
  size_t app_id_len_ = 0;                // app id length within target_
  codec::InternalInvokeRequestView self_view_;  // decoded request for self-invocation
  AppCall* app_call_ = nullptr;          // self-invocation in flight
  upstream::PeerConnection* peer_ = nullptr; // connection carrying the CallLocal
  int32_t stream_ = 0;                   // its stream id
  int retries_ = 0;                      // built-in retries done
  uint64_t instance_ = 0;                // the instance of the attempt in flight
  uint64_t failed_[4] = {};              // instances earlier attempts failed on (the picker
                                         // avoids them while another one exists)
  size_t failed_count_ = 0;              // entries of failed_ in use
  uint64_t hash_key_ = 0;                // consistent-hash key (set_hash_key)
  bool call_noted_ = false;              // the picker counts a call to instance_ in flight
  bool replayable_ = true;               // the body may be sent again
  bool self_call_ = false;               // the target is our own app id: attempts go to our app
  bool no_more_retries_ = false;         // shutdown: do not schedule retries
  shard::Timer retry_timer_;             // 1 s between attempts
  int64_t deadline_ns_ = 0;              // the caller's deadline (0 = none given)
  int64_t park_deadline_ = 0;            // when waiting for a lookup gives up (0 = not parked yet)
  BroadcastCall* broadcast_call_ = nullptr;  // the fan-out in flight (until its outcome)
  bool broadcast_used_ = false;          // this call went out as a broadcast
  uint32_t broadcast_received_ = 0;      // instances the broadcast reached (at its outcome)
  int64_t stage_start_ns_ = 0;           // start of the stage in progress (issue 11 stage histograms)
  // Issue 10 (res): the Resiliency policy of this call.
  const resiliency::TargetPolicy* policy_ = nullptr;    // nullptr = built-in behaviour only
  const resiliency::RetryPlan* builtin_plan_ = nullptr; // DaprBuiltInServiceRetries override
  uint64_t breaker_key_ = 0;             // <appId>:<method> hash; 0 = no circuit breaker
  resiliency::Admission admission_;      // the breaker's answer for the attempt in flight
  bool admitted_ = false;                // admission_ awaits its outcome
  bool abandoning_ = false;              // the timed-out stream is being reset: ignore its result
  int64_t policy_retries_ = 0;           // user-policy retries done
  int64_t next_delay_ns_ = 0;            // wait before the next policy retry (policy_retry_left())
  int64_t started_ns_ = 0;               // when the invocation began (exponential elapsed-time cap)
  shard::Timer attempt_timer_;           // the policy's per-attempt timeout
};

}  // namespace ringside::invoke
