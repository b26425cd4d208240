#include "dataplane/http2/endpoint.h"

namespace ringside::http2 {

bool Endpoint::flush_to(mem::Buffer* out) {
  // Writable callbacks may queue more data, which wants flushing too. Each round needs a queue
  // to cross the high watermark again, so a few rounds suffice; the bound keeps a handler that
  // refills forever from starving the shard (the rest goes out on the next flush).
  constexpr int kMaxRounds = 16;
  for (int round = 0; round < kMaxRounds; ++round) {
    if (!session_.flush_to(out)) return false;
    if (!fire_writable()) return true;
  }
  return session_.alive();
}

}  // namespace ringside::http2
