#include "dataplane/mem/shard_pool.h"

#include <cstdlib>
#include <cstring>

namespace ringside::mem {
namespace {

constexpr uint32_t kMagic = 0x52534850;  // "RSHP": catches frees of foreign pointers in debug
constexpr size_t kHeader = 16;

struct Header {
  uint32_t cls;
  uint32_t magic;
  Header* next_all;  // previous block taken from the system (chain of every block)
};
static_assert(sizeof(Header) == kHeader);

int class_for(size_t n) {
  size_t need = n + kHeader;
  int shift = ShardPool::kMinShift;
  while ((size_t{1} << shift) < need) ++shift;
  return shift - ShardPool::kMinShift;
}

thread_local ShardPool* tls_current = nullptr;

}  // namespace

ShardPool* ShardPool::current() { return tls_current; }
void ShardPool::set_current(ShardPool* pool) { tls_current = pool; }

ShardPool::~ShardPool() {
  auto* h = static_cast<Header*>(all_);
  while (h) {
    Header* next = h->next_all;
    std::free(h);
    h = next;
  }
}

void* ShardPool::allocate(size_t n) {
  if (n > kMaxBlock - kHeader) return nullptr;
  int cls = class_for(n);
  ++stats_.allocs;
  if (FreeBlock* b = free_[cls]) {
    free_[cls] = b->next;
    stats_.bytes_cached -= size_t{1} << (cls + kMinShift);
    ++in_use_[cls];
    return b;
  }
  void* p = take_from_system(cls);
  if (!p) return nullptr;
  ++in_use_[cls];
  // Headroom (see the header): this class's peak just grew; take a quarter more now.
  if (in_use_[cls] >= kHeadroomFrom) {
    uint32_t extra = in_use_[cls] / 4;
    if (extra == 0) extra = 1;
    if (extra > kHeadroomMax) extra = kHeadroomMax;
    for (uint32_t i = 0; i < extra; ++i) {
      void* spare = take_from_system(cls);
      if (!spare) break;
      auto* b = static_cast<FreeBlock*>(spare);
      b->next = free_[cls];
      free_[cls] = b;
      stats_.bytes_cached += size_t{1} << (cls + kMinShift);
    }
  }
  return p;
}

void* ShardPool::take_from_system(int cls) {
  ++stats_.global_allocs;
  auto* h = static_cast<Header*>(std::aligned_alloc(16, size_t{1} << (cls + kMinShift)));
  if (!h) return nullptr;
  h->cls = static_cast<uint32_t>(cls);
  h->magic = kMagic;
  h->next_all = static_cast<Header*>(all_);
  all_ = h;
  return reinterpret_cast<char*>(h) + kHeader;
}

void ShardPool::deallocate(void* p) {
  if (!p) return;
  auto* h = reinterpret_cast<Header*>(static_cast<char*>(p) - kHeader);
  if (h->magic != kMagic) std::abort();  // impossible state: not one of ours
  ++stats_.frees;
  --in_use_[h->cls];
  auto* b = static_cast<FreeBlock*>(p);
  b->next = free_[h->cls];
  free_[h->cls] = b;
  stats_.bytes_cached += size_t{1} << (h->cls + kMinShift);
}

size_t ShardPool::usable_size(const void* p) {
  auto* h = reinterpret_cast<const Header*>(static_cast<const char*>(p) - kHeader);
  return (size_t{1} << (h->cls + kMinShift)) - kHeader;
}

void* ShardPool::reallocate(void* p, size_t n) {
  if (!p) return allocate(n);
  if (n == 0) {
    deallocate(p);
    return nullptr;
  }
  size_t have = usable_size(p);
  if (n <= have) return p;
  void* q = allocate(n);
  if (!q) return nullptr;
  std::memcpy(q, p, have);
  deallocate(p);
  return q;
}

void* ShardPool::allocate_zeroed(size_t count, size_t size) {
  if (size != 0 && count > kMaxBlock / size) return nullptr;
  void* p = allocate(count * size);
  if (p) std::memset(p, 0, count * size);
  return p;
}

}  // namespace ringside::mem
