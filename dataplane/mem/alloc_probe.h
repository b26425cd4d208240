#pragma once
// How many times the calling thread has entered the global allocator (malloc, calloc, realloc,
// aligned allocations, operator new). Always 0 in normal builds; the test binary
// ringsided-alloccount links counting_malloc.cc, which interposes the allocator and counts.
#include <cstdint>

namespace ringside::mem {
uint64_t thread_heap_allocations();
}
