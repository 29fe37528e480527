// The per-thread free lists behind small_object_pool.hpp.
#include "tensor/small_object_pool.hpp"

#include <cstdint>

namespace loom::detail {

namespace {

constexpr std::size_t kClasses = kPoolMaxBytes / kPoolGranule;
// Blocks a thread keeps per class (at most 512 × 512 bytes): enough for the objects of a
// large graph being freed and remade each step, bounded when one thread only frees what
// another makes (a data loader's worker).
constexpr std::uint32_t kMaxCachedBlocks = 512;

struct FreeBlock {
  FreeBlock* next;
};

struct Cache {
  FreeBlock* head[kClasses] = {};
  std::uint32_t count[kClasses] = {};
  Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;
  ~Cache() {
    for (FreeBlock*& list : head) {
      while (FreeBlock* b = list) {
        list = b->next;
        ::operator delete(b);
      }
    }
  }
};

// initial-exec: a plain %fs-relative load instead of a __tls_get_addr call per allocation.
thread_local Cache* tls_cache __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local bool tls_cache_gone __attribute__((tls_model("initial-exec"))) = false;

// Owns the thread's cache; at thread exit it first detaches it (objects freed later, e.g. by
// other thread_local or static destructors, go to the heap), then frees the cached blocks.
struct CacheOwner {
  Cache cache;
  ~CacheOwner() {
    tls_cache = nullptr;
    tls_cache_gone = true;
  }
};

Cache* thread_cache() {
  if (Cache* c = tls_cache) [[likely]]
    return c;
  if (tls_cache_gone) return nullptr;
  thread_local CacheOwner owner;
  tls_cache = &owner.cache;
  return tls_cache;
}

}  // namespace

void* pool_allocate_slow(std::size_t size_class) {
  if (Cache* c = thread_cache()) {
    if (FreeBlock* b = c->head[size_class]) {
      c->head[size_class] = b->next;
      --c->count[size_class];
      return b;
    }
  }
  return ::operator new((size_class + 1) * kPoolGranule);
}

void pool_deallocate_slow(void* p, std::size_t size_class) noexcept {
  Cache* c = thread_cache();
  if (c && c->count[size_class] < kMaxCachedBlocks) {
    auto* b = static_cast<FreeBlock*>(p);
    b->next = c->head[size_class];
    c->head[size_class] = b;
    ++c->count[size_class];
    return;
  }
  ::operator delete(p);
}

}  // namespace loom::detail
