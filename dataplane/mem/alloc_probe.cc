#include "dataplane/mem/alloc_probe.h"

namespace ringside::mem {
// Weak: counting_malloc.cc provides the real one in counting builds.
__attribute__((weak)) uint64_t thread_heap_allocations() { return 0; }
}  // namespace ringside::mem
