#pragma once
// PoolDialState: the picker's view of dial back-off (lb::DialState) over this shard's PeerPool.
#include "dataplane/upstream/lb/picker.h"
#include "dataplane/upstream/peer_pool.h"

namespace ringside::upstream {

class PoolDialState final : public lb::DialState {
 public:
  explicit PoolDialState(const PeerPool* pool) : pool_(pool) {}
  bool backing_off(const snapshot::SocketAddress& addr) const override { return pool_ && pool_->backing_off(addr); }

 private:
  const PeerPool* pool_;  // the shard's connections (may be nullptr in tests)
};

}  // namespace ringside::upstream
