#pragma once
// Operation: what an io_uring SQE's user_data points at. The shard loop calls
// `fn(owner, res, flags)` for every completion, so one object (a connection, a listener, a timer)
// can have several kinds of operations in flight without a vtable per kind.
#include <cstdint>

namespace ringside::io {

struct Operation {
  void (*fn)(void* owner, int32_t res, uint32_t flags) = nullptr;  // completion callback
  void* owner = nullptr;                                           // passed back to fn
};

}  // namespace ringside::io
