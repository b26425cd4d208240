// Interposes the C allocator in the ringsided-alloccount test binary and counts calls per
// thread, so the end-to-end allocation test can prove the shard request path never reaches the
// global heap in steady state. operator new goes through malloc in libstdc++, so it is counted too.
#include <malloc.h>

#include <cstddef>
#include <cstdint>

#include "dataplane/mem/alloc_probe.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
__thread uint64_t tls_allocations __attribute__((tls_model("initial-exec"))) = 0;
}

namespace ringside::mem {
uint64_t thread_heap_allocations() { return tls_allocations; }
}  // namespace ringside::mem

extern "C" {
void* malloc(size_t n) {
  ++tls_allocations;
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  ++tls_allocations;
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  ++tls_allocations;
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* memalign(size_t align, size_t n) {
  ++tls_allocations;
  return __libc_memalign(align, n);
}
void* aligned_alloc(size_t align, size_t n) {
  ++tls_allocations;
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) {
  ++tls_allocations;
  void* p = __libc_memalign(align, n);
  if (!p) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* valloc(size_t n) {
  ++tls_allocations;
  return __libc_memalign(4096, n);
}
}
