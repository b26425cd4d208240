// Counts every call into the C allocator (malloc & co are interposed for this binary) while
// unary calls run through an in-memory client/server pair: after warm-up there must be none,
// from nghttp2 or from us (BRIEF §7: zero global-allocator calls per request).
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <string>

#include "tests/unit/grpc/pair_harness.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_calls{0};
inline void count() {
  if (g_counting.load(std::memory_order_relaxed)) g_calls.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  count();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t align, size_t n) {
  count();
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) {
  count();
  *out = __libc_memalign(align, n);
  return *out ? 0 : 12;
}
}

namespace ringside::grpc {
namespace {

TEST(GrpcAllocations, NoGlobalAllocatorCallsPerCallAfterWarmup) {
  testing::Pair p;
  p.sh.allocate_nothing = true;
  p.ch.allocate_nothing = true;
  std::string msg(5000, 'm');
  Metadata md[] = {{"dapr-app-id", "orders"}, {"traceparent", "00-abc-def-01"}};
  auto run = [&](int rounds) {
    for (int i = 0; i < rounds; ++i) {
      for (int j = 0; j < 16; ++j) {
        p.client.start_unary("/test.Svc/Echo", "peer", md, 1'000'000'000, msg, nullptr);
      }
      p.pump();
    }
  };
  // Warm-up covers a connection-window cycle (>8 MiB), so the first automatic WINDOW_UPDATE
  // has already taken its outbound-item block from the pool.
  run(150);
  g_calls = 0;
  g_counting = true;
  run(200);
  g_counting = false;
  EXPECT_EQ(p.ch.count, 16u * 350);
  EXPECT_EQ(p.ch.last_status, 0);
  EXPECT_EQ(g_calls.load(), 0u);
}

TEST(GrpcAllocations, InterpositionWorks) {
  g_calls = 0;
  g_counting = true;
  void* volatile p = malloc(10);
  g_counting = false;
  free(p);
  EXPECT_EQ(g_calls.load(), 1u);
}

}  // namespace
}  // namespace ringside::grpc
