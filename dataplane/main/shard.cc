#include "dataplane/tls/credential_store.h"
#include "dataplane/main/shard.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "absl/strings/str_format.h"
#include "dataplane/appchannel/grpc/grpc_app_channel.h"
#include "dataplane/appchannel/http/http_app_channel.h"
#include "dataplane/callee/app_concurrency_gate.h"
#include "dataplane/ingress/grpc/api_port_connection.h"
#include "dataplane/ingress/http/http_ingress.h"
#include "dataplane/ingress/balanced_acceptor.h"
#include "dataplane/ingress/connection_cap.h"
#include "dataplane/ingress/internal/internal_port_connection.h"
#include "dataplane/io/buffer_ring.h"
#include "dataplane/io/listener.h"
#include "dataplane/mapping/invoke_scratch.h"
#include "dataplane/mem/alloc_probe.h"
#include "dataplane/mem/deferred_release.h"
#include "dataplane/mem/shard_pool.h"
#include "dataplane/runtime/busy_poll.h"
#include "dataplane/runtime/shard_services.h"
#include "dataplane/upstream/lb/policy_picker.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::shard {
namespace {
constexpr int64_t kMaxWaitNs = 100'000'000;       // wake at least every 100 ms (stop flag, QSBR)
constexpr int64_t kForceCloseWaitNs = 1'000'000'000;  // after force-closing, wait this long at most
}  // namespace

// The thread's own objects, in construction order (destroyed in reverse).
struct Shard::State {
  mem::ShardPool pool;
  mem::DeferredRelease deferred{&pool};
  io::Ring ring;
  io::BufferRing buffers;
  io::FlushList flushes;  // issue 11: connections whose output waits for the end of the turn
  invoke::ShardServices svc;
  shard::ParkedCalls parked{&svc.timers};
  invoke::InvokeScratch scratch;
  // A read kept armed on the registry's wake eventfd: a published table ends the wait at once.
  io::Operation wake_op;
  uint64_t wake_value = 0;
  int wake_fd = -1;
  bool wake_armed = false;
  void arm_wake() {
    if (wake_fd < 0 || wake_armed) return;
    io_uring_sqe* s = ring.sqe(&wake_op);
    io_uring_prep_read(s, wake_fd, &wake_value, sizeof wake_value, 0);
    wake_armed = true;
  }
  static void on_wake(void* self, int32_t, uint32_t) {
    auto* st = static_cast<State*>(self);
    st->wake_armed = false;
    st->arm_wake();
  }
  lb::PolicyPicker picker{static_cast<uint64_t>(monotonic_ns())};  // every LB policy, outlier ejection
  std::unique_ptr<tls::ShardTls> tls;  // issue 10: mTLS credentials as this shard sees them
  std::unique_ptr<upstream::PeerPool> peers;
  std::unique_ptr<invoke::AppChannel> app;
  std::unique_ptr<invoke::AppConcurrencyGate> app_gate;  // --app-max-concurrency in front of `app`
  std::vector<std::unique_ptr<io::Listener>> api_listeners;  // HTTP and gRPC API, every address
  std::unique_ptr<io::Listener> internal_listener;

  // One per port: hands each accepted socket to the connection class serving that port (which
  // closes it when it cannot).
  template <bool (*Accept)(invoke::ShardServices*, int)>
  struct Acceptor : io::Listener::Handler {
    invoke::ShardServices* svc = nullptr;
    void on_accept(int fd) override {
      // Past --max-connections (issue 10): refused at once with GOAWAY.
      if (!invoke::refuse_if_full(svc, fd, invoke::ConnectionRefusal::kHttp2)) Accept(svc, fd);
    }
  };
  // HTTP API and internal port: each connection to the shard with the fewest of its port
  // (issue 11, shard balance).
  std::unique_ptr<invoke::BalancedAcceptor> http_acceptor;
  Acceptor<&invoke::ApiPortConnection::accept> grpc_acceptor;
  std::unique_ptr<invoke::BalancedAcceptor> internal_acceptor;
};

Shard::Shard(const ShardSetup& setup) : setup_(setup) {}

Shard::~Shard() { join(); }

absl::Status Shard::start() {
  thread_ = std::thread([this] { run(); });
  while (started_.load(std::memory_order_acquire) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (started_.load() < 0) {
    join();
    return start_status_;
  }
  return absl::OkStatus();
}

void Shard::join() {
  if (thread_.joinable()) thread_.join();
}

void Shard::run() {
  char name[16];
  snprintf(name, sizeof name, "shard-%d", setup_.index);
  pthread_setname_np(pthread_self(), name);
  if (setup_.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(setup_.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      start_status_ = absl::FailedPreconditionError(
          absl::StrFormat("shard %d: cannot pin to CPU %d: %s", setup_.index, setup_.cpu,
                          std::strerror(errno)));
      started_.store(-1, std::memory_order_release);
      return;
    }
  }
  auto st = std::make_unique<State>();
  mem::ShardPool::set_current(&st->pool);
  absl::Status s = st->ring.init(setup_.ring);
  if (s.ok()) {
    s = st->buffers.init(st->ring.raw(), 0, setup_.buffer_count, setup_.buffer_size);
  }
  if (!s.ok()) {
    start_status_ = s;
    started_.store(-1, std::memory_order_release);
    return;
  }
  const invoke::SidecarSettings& settings = *setup_.settings;
  invoke::ShardServices& svc = st->svc;
  svc.shard_index = setup_.index;
  svc.io = {&st->ring, &st->buffers, &st->pool};
  svc.io.flushes = &st->flushes;  // issue 11: sends start once per loop turn
  svc.counters = setup_.counters;
  svc.settings = setup_.settings;
  svc.snapshots = setup_.snapshots;
  svc.reader = setup_.reader;
  svc.parked = &st->parked;
  svc.scratch = &st->scratch;
  svc.deferred = &st->deferred;
  st->scratch.path_size = 2 * size_t{settings.max_header_bytes} + 64;
  st->scratch.path = static_cast<char*>(st->pool.allocate(st->scratch.path_size));
  st->scratch.json.set_pool(&st->pool);
  st->picker.set_counters(setup_.counters);
  svc.picker = &st->picker;
  if (settings.mtls) {  // issue 10: mTLS on the internal hop
    st->tls = std::make_unique<tls::ShardTls>(settings.mtls);
    svc.tls = st->tls.get();
  }
  st->peers = std::make_unique<upstream::PeerPool>(&svc);
  svc.peers = st->peers.get();
  if (settings.has_app) {
    if (settings.app_protocol == "grpc") {
      auto grpc_app = std::make_unique<invoke::GrpcAppChannel>(&svc);
      svc.grpc_app = grpc_app.get();
      st->app = std::move(grpc_app);
    } else {
      st->app = std::make_unique<invoke::HttpAppChannel>(&svc);
    }
    svc.app = st->app.get();
    if (settings.app_concurrency) {
      st->app_gate = std::make_unique<invoke::AppConcurrencyGate>(
          &svc, st->app.get(), settings.app_concurrency, settings.app_concurrency_queue,
          settings.app_concurrency_timeout_ns);
      svc.app = st->app_gate.get();
    }
  }
  svc.http_balancer = setup_.http_balancer;
  st->http_acceptor = std::make_unique<invoke::BalancedAcceptor>(&svc, setup_.http_balancer, &invoke::HttpIngressConnection::accept,
                                                                invoke::ConnectionRefusal::kHttp1);
  st->grpc_acceptor.svc = &svc;
  svc.internal_balancer = setup_.internal_balancer;
  st->internal_acceptor = std::make_unique<invoke::BalancedAcceptor>(&svc, setup_.internal_balancer, &invoke::InternalPortConnection::accept,
                                                                    invoke::ConnectionRefusal::kHttp2);
  for (int fd : setup_.http_fds) {
    st->api_listeners.push_back(std::make_unique<io::Listener>(&svc.io, fd, st->http_acceptor.get()));
    st->api_listeners.back()->start();
  }
  st->http_acceptor->open();
  for (int fd : setup_.grpc_fds) {
    st->api_listeners.push_back(std::make_unique<io::Listener>(&svc.io, fd, &st->grpc_acceptor));
    st->api_listeners.back()->start();
  }
  if (setup_.internal_fd >= 0) {
    st->internal_listener =
        std::make_unique<io::Listener>(&svc.io, setup_.internal_fd, st->internal_acceptor.get());
    st->internal_listener->start();
    st->internal_acceptor->open();
  }
  st->wake_op = {&State::on_wake, st.get()};
  st->wake_fd = setup_.reader->wake_fd();
  st->arm_wake();
  ring_fd_ = st->ring.raw()->ring_fd;  // read by the sidecar for SQPOLL sharing (ATTACH_WQ)
  started_.store(1, std::memory_order_release);

  snapshot::SnapshotRegistry::Reader* reader = setup_.reader;
  uint64_t table_version = setup_.snapshots->current()->version();
  svc.counters->table_version.store(table_version, std::memory_order_relaxed);  // issue 11 metrics
  svc.counters->table_seen_ns.store(monotonic_ns(), std::memory_order_relaxed);
  int64_t drain_deadline = 0;
  int64_t force_deadline = 0;
  BusyPoll busy_poll(setup_.busy_poll_us);
  for (;;) {
    int64_t now = monotonic_ns();
    svc.timers.run_due(now);
    if (stop_.load(std::memory_order_acquire) && !svc.draining) {
      // Graceful stop: no new connections, idle ones closed, busy ones after their response.
      svc.draining = true;
      drain_deadline = now + settings.graceful_shutdown_ns;
      for (auto& l : st->api_listeners) l->stop();
      // The internal port keeps accepting until the drain ends, answering each new peer
      // connection with GOAWAY(last stream 0) so the peer retries elsewhere what it sent
      // (issue 10; BalancedAcceptor::serve). Closing it now would reset connections waiting in
      // its backlog, whose requests the peer could then not safely retry.
      st->internal_acceptor->close();
      st->http_acceptor->close();
      svc.live.for_each([](LiveConnection* c) { c->drain(); });
    }
    if (svc.draining && force_deadline == 0 &&
        (svc.live.empty() || now >= drain_deadline)) {
      // In-flight work is done (or out of time): close what is left, outbound included.
      force_deadline = now + kForceCloseWaitNs;
      if (st->internal_listener) st->internal_listener->stop_refusing_backlog(&invoke::refuse_draining);
      svc.live.for_each([](LiveConnection* c) { c->close_now(); });
      svc.peers->close_all();
      if (svc.app) svc.app->shutdown();
    }
    // A connection another shard handed to us just before we closed our slot is counted on us
    // and still in flight (its MSG_RING completion not yet seen): wait for it too, so it is
    // refused with GOAWAY (BalancedAcceptor::serve) instead of being left unserved in a ring
    // nobody reads and reset at exit, after the peer may have written a request on it.
    const bool handoffs_pending =
        (svc.internal_balancer && svc.internal_balancer->live(svc.shard_index) > 0) ||
        (svc.http_balancer && svc.http_balancer->live(svc.shard_index) > 0);
    if (force_deadline != 0 &&
        ((svc.counters->connections_open.load(std::memory_order_relaxed) == 0 && !handoffs_pending) ||
         now >= force_deadline)) {
      break;
    }
    // Issue 11: everything this turn appended (callbacks, timers, draining) leaves now, one send
    // per connection.
    st->flushes.run();
    reader->quiescent();
    // Issue 11 metrics: stored only when changed (an unchanged store still dirties the line).
    ShardCounters::set(svc.counters->heap_allocations, mem::thread_heap_allocations());
    ShardCounters::set(svc.counters->recv_enobufs, st->buffers.enobufs_seen);
    ShardCounters::set(svc.counters->cq_overflow, *st->ring.raw()->cq.koverflow);
    reader->offline();
    busy_poll.wait(st->ring, svc.timers.wait_ns(now, kMaxWaitNs));  // blocks, or spins first (--busy-poll-us)
    reader->online();
    st->ring.dispatch();
    if (const uint64_t v = setup_.snapshots->current()->version(); v != table_version) {
      table_version = v;
      svc.counters->table_seen_ns.store(monotonic_ns(), std::memory_order_relaxed);  // issue 11: snapshot age
      svc.counters->table_version.store(v, std::memory_order_relaxed);
      st->parked.on_new_table();  // calls waiting for a lookup try again
    }
    // Whatever ended in this turn's callbacks is destroyed now that none of them is running.
    st->deferred.run();
  }
  st->deferred.run();
  reader->offline();
  // The ring goes first: the kernel drops every operation still in flight, so nothing refers
  // to our buffers any more. Then the state is destroyed; objects still living in the pool
  // (connections closed by force) are freed with it, without running their destructors.
  st->buffers.detach();
  st->ring.close();
  st.reset();
  mem::ShardPool::set_current(nullptr);
}

}  // namespace ringside::shard
