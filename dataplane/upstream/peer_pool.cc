#include "dataplane/upstream/peer_pool.h"

#include <arpa/inet.h>

#include "dataplane/mem/pool_object.h"

namespace ringside::upstream {

bool PeerPool::backing_off(const snapshot::SocketAddress& addr) const {
  auto it = by_addr_.find(addr.key());
  if (it == by_addr_.end()) return false;
  const Entry& e = it->second;
  if (e.conn && e.conn->usable()) return false;
  return shard::monotonic_ns() < e.retry_after_ns;
}

PeerConnection* PeerPool::get(const snapshot::SocketAddress& addr) {
  uint64_t key = addr.key();
  Entry& e = by_addr_[key];
  if (e.conn && e.conn->usable()) return e.conn;
  if (e.conn) {
    // GOAWAY'd or failing: let it drain on its own; a new one takes the calls.
    e.conn = nullptr;
  }
  int64_t now = shard::monotonic_ns();
  if (now < e.retry_after_ns) return nullptr;
  auto* c = mem::pool_new<PeerConnection>(svc_->io.pool, this, svc_, key);
  if (!c) return nullptr;
  e.conn = c;
  if (!c->start(addr)) {
    e.conn = nullptr;
    mem::pool_delete(svc_->io.pool, c);
    return nullptr;
  }
  return c;
}

void PeerPool::forget(PeerConnection* c, bool dial_failed) {
  auto it = by_addr_.find(c->key());
  if (it == by_addr_.end()) return;
  Entry& e = it->second;
  if (e.conn == c) e.conn = nullptr;
  if (dial_failed) {
    // 50 ms, 100 ms, ... capped at 1 s: the built-in retry (1 s apart) always gets a fresh dial.
    int shift = e.failures < 5 ? e.failures : 5;
    int64_t backoff = int64_t{50'000'000} << shift;
    if (backoff > 900'000'000) backoff = 900'000'000;
    e.retry_after_ns = shard::monotonic_ns() + backoff;
    ++e.failures;
  } else {
    e.failures = 0;
    e.retry_after_ns = 0;
  }
}

void PeerPool::close_all() {
  for (auto& [key, e] : by_addr_) {
    if (e.conn) e.conn->close();
  }
}

}  // namespace ringside::upstream
