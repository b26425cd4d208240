#include "dataplane/upstream/peer_pool.h"

#include <arpa/inet.h>

#include "dataplane/mem/pool_object.h"
#include "dataplane/runtime/sidecar_settings.h"
#include "dataplane/upstream/peer_connection.h"

namespace ringside::upstream {
namespace {
// The most connections per peer the pool tracks for placement (--peer-max-connections is
// bounded by it), so placement works on a small array on the stack.
constexpr size_t kMaxConnectionsPerPeer = 64;
}  // namespace

PeerPool::PeerPool(invoke::ShardServices* svc, Kind kind) : svc_(svc), kind_(kind) {
  const invoke::SidecarSettings& s = *svc->settings;
  limits_.max_connections = s.peer_max_connections == 0 ? 1 : s.peer_max_connections;
  if (limits_.max_connections > kMaxConnectionsPerPeer) limits_.max_connections = kMaxConnectionsPerPeer;
  limits_.max_pending = s.peer_max_pending;
  idle_timeout_ns_ = s.peer_idle_timeout_ns;
  keepalive_interval_ns_ = s.peer_keepalive_interval_ns;
  keepalive_timeout_ns_ = s.peer_keepalive_timeout_ns;
  default_call_timeout_ns_ = kind == Kind::kPeers ? s.peer_call_timeout_ns : 0;
  sweep_.fn = &PeerPool::on_sweep;
  sweep_.owner = this;
}

PeerPool::~PeerPool() {
  svc_->timers.cancel(&sweep_);
  for (auto& [key, g] : groups_) mem::pool_delete(svc_->io.pool, g);
}

bool PeerPool::backing_off(const snapshot::SocketAddress& addr) const {
  auto it = groups_.find(addr.key());
  if (it == groups_.end()) return false;
  const Group& g = *it->second;
  for (PeerConnection* c = g.head; c; c = c->next_in_group_) {
    if (c->usable()) return false;
  }
  return shard::monotonic_ns() < g.retry_after_ns;
}

PeerConnection* PeerPool::get(const snapshot::SocketAddress& addr, Miss* miss, const ExpectedPeer* expect) {
  if (miss) *miss = Miss::kNone;
  // mTLS: only connections dialled for this callee identity may carry the call (peer_connection.h).
  if (!svc_->tls || kind_ != Kind::kPeers) expect = nullptr;
  const uint64_t expect_hash = expect ? upstream::expected_peer_hash(*expect) : 0;
  const uint64_t key = addr.key();
  auto [it, inserted] = groups_.try_emplace(key, nullptr);
  if (inserted) {
    it->second = mem::pool_new<Group>(svc_->io.pool);
    if (!it->second) {
      groups_.erase(it);
      if (miss) *miss = Miss::kBackingOff;
      return nullptr;
    }
  }
  Group* g = it->second;
  ConnectionLoad loads[kMaxConnectionsPerPeer];
  PeerConnection* conns[kMaxConnectionsPerPeer];
  size_t n = 0;
  for (PeerConnection* c = g->head; c; c = c->next_in_group_) {
    if (c->settings_received()) {
      g->learned_max_streams = c->peer_max_streams();
      g->learned_shards = c->peer_shards();
    }
    if (!c->usable() || c->expected_peer_hash() != expect_hash) {
      // GOAWAY'd, out of stream ids, failing, or verified for another app id (mTLS): drains,
      // then closes when idle.
      c->retire();
      continue;
    }
    if (n == kMaxConnectionsPerPeer) continue;
    loads[n] = {c->active_calls(),
                planning_limit(c->peer_max_streams(), c->settings_received(), g->learned_max_streams),
                c->settings_received()};
    conns[n++] = c;
  }
  // Only a placement that would dial needs the clock.
  bool may_dial = g->retry_after_ns == 0 || shard::monotonic_ns() >= g->retry_after_ns;
  const Spread spread{spread_width(g->learned_shards, limits_), g->cursor++};
  Placement p = place_call(std::span<const ConnectionLoad>(loads, n), limits_, may_dial, spread);
  switch (p.kind) {
    case Placement::Kind::kUse:
      // Spread: a connection to another callee shard is missing; dial it for later calls (a
      // failed dial backs off as any other, and this call is placed already).
      if (p.dial_spare) dial(g, addr, expect);
      return conns[p.index];
    case Placement::Kind::kQueue:
      shard::ShardCounters::bump(svc_->counters->peer_calls_queued);
      return conns[p.index];
    case Placement::Kind::kDial:
      if (PeerConnection* c = dial(g, addr, expect)) return c;
      if (n > 0) {
        // No memory or socket for another connection: wait on the shortest queue instead.
        PoolLimits no_dial = limits_;
        no_dial.max_connections = static_cast<uint32_t>(n);
        p = place_call(std::span<const ConnectionLoad>(loads, n), no_dial, false);
        if (p.kind == Placement::Kind::kQueue) return conns[p.index];
        if (p.kind == Placement::Kind::kRefuse) break;
      }
      if (miss) *miss = Miss::kBackingOff;
      return nullptr;
    case Placement::Kind::kRefuse:
      break;
    case Placement::Kind::kNone:
      if (miss) *miss = Miss::kBackingOff;
      return nullptr;
  }
  shard::ShardCounters::bump(svc_->counters->peer_calls_refused);
  if (miss) *miss = Miss::kRefused;
  return nullptr;
}

PeerConnection* PeerPool::dial(Group* g, const snapshot::SocketAddress& addr, const ExpectedPeer* expect) {
  auto* c = mem::pool_new<PeerConnection>(svc_->io.pool, this, svc_, addr.key());
  if (!c) return nullptr;
  link(g, c);  // owned from the first moment
  if (!c->start(addr, expect)) {
    unlink(g, c);
    mem::pool_delete(svc_->io.pool, c);
    return nullptr;
  }
  arm_sweep();
  return c;
}

void PeerPool::link(Group* g, PeerConnection* c) {
  c->prev_in_group_ = g->tail;
  c->next_in_group_ = nullptr;
  if (g->tail) g->tail->next_in_group_ = c;
  else g->head = c;
  g->tail = c;
  ++g->count;
  ++connections_;
  publish_count();
}

void PeerPool::unlink(Group* g, PeerConnection* c) {
  if (c->prev_in_group_) c->prev_in_group_->next_in_group_ = c->next_in_group_;
  else g->head = c->next_in_group_;
  if (c->next_in_group_) c->next_in_group_->prev_in_group_ = c->prev_in_group_;
  else g->tail = c->prev_in_group_;
  c->prev_in_group_ = c->next_in_group_ = nullptr;
  --g->count;
  --connections_;
  publish_count();
}

void PeerPool::publish_count() {
  // The gauge is what the pool lists, not a count the connections keep themselves: a socket
  // the pool lost track of would show up as a difference from the process's open sockets.
  if (kind_ == Kind::kPeers) svc_->counters->peer_connections.store(connections_, std::memory_order_relaxed);
  if (kind_ == Kind::kApp) shard::ShardCounters::set(svc_->counters->app_connections, connections_);
}

void PeerPool::forget(PeerConnection* c, bool dial_failed) {
  auto it = groups_.find(c->key());
  if (it == groups_.end()) return;
  Group* g = it->second;
  for (PeerConnection* x = g->head; x; x = x->next_in_group_) {
    if (x == c) {
      unlink(g, c);
      break;
    }
  }
  if (dial_failed) {
    // 50 ms, 100 ms, ... capped at 0.9 s: the built-in retry (1 s apart) always gets a fresh dial.
    int shift = g->failures < 5 ? g->failures : 5;
    int64_t backoff = int64_t{50'000'000} << shift;
    if (backoff > 900'000'000) backoff = 900'000'000;
    g->retry_after_ns = shard::monotonic_ns() + backoff;
    ++g->failures;
  } else {
    g->failures = 0;
    g->retry_after_ns = 0;
  }
}

void PeerPool::close_all() {
  svc_->timers.cancel(&sweep_);
  for (auto& [key, g] : groups_) {
    for (PeerConnection* c = g->head; c;) {
      PeerConnection* next = c->next_in_group_;
      c->close();
      c = next;
    }
  }
}

void PeerPool::arm_sweep() {
  if (sweep_.armed || connections_ == 0 || svc_->draining) return;
  // A quarter of the idle timeout: extra connections close within 1.25 x the timeout.
  int64_t period = idle_timeout_ns_ / 4;
  if (period < 50'000'000) period = 50'000'000;
  if (period > 5'000'000'000) period = 5'000'000'000;
  svc_->timers.arm(&sweep_, shard::monotonic_ns() + period);
}

void PeerPool::on_sweep(void* self) {
  auto* pool = static_cast<PeerPool*>(self);
  const int64_t now = shard::monotonic_ns();
  for (auto& [key, g] : pool->groups_) {
    // The oldest usable connection stays, idle or not; toward a ringside callee with S shards
    // the oldest min(S, max_connections) stay (one per callee shard, spread_width).
    uint32_t pinned_left = spread_width(g->learned_shards, pool->limits_);
    for (PeerConnection* c = g->head; c;) {
      PeerConnection* next = c->next_in_group_;
      bool usable = c->usable();
      if (usable && pinned_left > 0) {
        --pinned_left;
      } else if (c->active_calls() == 0 &&
                 (!usable || now - c->idle_since_ns() >= pool->idle_timeout_ns_)) {
        c->close();  // unlisted by forget() when its stream is gone
      }
      c = next;
    }
  }
  pool->arm_sweep();
}

}  // namespace ringside::upstream
