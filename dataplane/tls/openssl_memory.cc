#include "dataplane/tls/openssl_memory.h"

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace ringside::tls {
namespace {

// Each block carries a 16-byte header (keeps malloc's 16-byte alignment) saying its class.
constexpr size_t kHeader = 16;
constexpr size_t kClassBytes[] = {64, 256};    // recycled sizes; larger ones are not recycled
constexpr int kClasses = 2;
constexpr int kUncached = kClasses;            // header tag of a block malloc'd at its own size
constexpr int kMaxCached = 1024;               // per thread and class: bounds what idles here

struct Header {
  size_t size;  // usable bytes
  int size_class;  // 0..kClasses-1, or kUncached
};
static_assert(sizeof(Header) <= kHeader);

struct FreeBlock {
  FreeBlock* next;
};

// One thread's lists. Plain data (no destructor), so it stays usable for frees that come late
// in thread exit (OpenSSL's own thread-exit cleanup); the Drainer below empties it once and
// from then on frees go straight back to malloc.
struct ThreadCache {
  FreeBlock* head[kClasses];
  int count[kClasses];
  bool drained;  // the thread is ending: recycle nothing more
};
thread_local ThreadCache t_cache = {};

struct Drainer {
  ~Drainer() {
    t_cache.drained = true;
    for (int c = 0; c < kClasses; ++c) {
      while (FreeBlock* b = t_cache.head[c]) {
        t_cache.head[c] = b->next;
        std::free(b);
      }
      t_cache.count[c] = 0;
    }
  }
};
thread_local Drainer t_drainer;

int class_of(size_t n) {
  for (int c = 0; c < kClasses; ++c) {
    if (n <= kClassBytes[c]) return c;
  }
  return kUncached;
}

void* to_user(void* base, size_t size, int size_class) {
  auto* h = static_cast<Header*>(base);
  h->size = size;
  h->size_class = size_class;
  return static_cast<char*>(base) + kHeader;
}
Header* header_of(void* user) { return reinterpret_cast<Header*>(static_cast<char*>(user) - kHeader); }

void* ssl_malloc(size_t n, const char*, int) {
  int c = class_of(n);
  if (c != kUncached) {
    ThreadCache& tc = t_cache;
    (void)&t_drainer;  // constructs this thread's drainer (registers its destructor)
    if (FreeBlock* b = tc.head[c]) {
      tc.head[c] = b->next;
      --tc.count[c];
      return to_user(b, kClassBytes[c], c);
    }
    void* base = std::malloc(kHeader + kClassBytes[c]);
    return base ? to_user(base, kClassBytes[c], c) : nullptr;
  }
  void* base = std::malloc(kHeader + n);
  return base ? to_user(base, n, kUncached) : nullptr;
}

void ssl_free(void* p, const char*, int) {
  if (!p) return;
  Header* h = header_of(p);
  int c = h->size_class;
  if (c != kUncached) {
    ThreadCache& tc = t_cache;
    (void)&t_drainer;  // a thread may free before it ever allocates
    if (!tc.drained && tc.count[c] < kMaxCached) {
      auto* b = reinterpret_cast<FreeBlock*>(h);
      b->next = tc.head[c];
      tc.head[c] = b;
      ++tc.count[c];
      return;
    }
  }
  std::free(h);
}

void* ssl_realloc(void* p, size_t n, const char* file, int line) {
  if (!p) return ssl_malloc(n, file, line);
  if (n == 0) {
    ssl_free(p, file, line);
    return nullptr;
  }
  Header* h = header_of(p);
  if (n <= h->size) return p;
  void* q = ssl_malloc(n, file, line);
  if (!q) return nullptr;
  std::memcpy(q, p, h->size);
  ssl_free(p, file, line);
  return q;
}

}  // namespace

bool install_openssl_allocator() { return CRYPTO_set_mem_functions(&ssl_malloc, &ssl_realloc, &ssl_free) == 1; }

}  // namespace ringside::tls
