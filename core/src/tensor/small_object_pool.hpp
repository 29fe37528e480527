#pragma once
// Thread-local free lists for the small objects every op creates (TensorImpl, Storage,
// AutogradMeta, autograd nodes and their shared_ptr control blocks). An op on a tiny tensor
// makes and frees a dozen of these; malloc/free of them was ~18% of a tiny MLP step.
//
// Every block is a plain ::operator new block of its size class, so any thread may free it:
// the freeing thread keeps it (up to a cap per class, then it goes back to the heap), and a
// thread whose cache is gone (thread exit, static destruction) uses the heap directly.
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace loom::detail {

inline constexpr std::size_t kPoolGranule = 16;
inline constexpr std::size_t kPoolMaxBytes = 512;  // larger objects go to the heap directly

void* pool_allocate_slow(std::size_t size_class);
void pool_deallocate_slow(void* p, std::size_t size_class) noexcept;

// Bytes rounded up to the granule, as an index (0 for 1..16 bytes).
constexpr std::size_t pool_size_class(std::size_t bytes) { return (bytes + kPoolGranule - 1) / kPoolGranule - 1; }

inline void* pool_allocate(std::size_t bytes) {
  if (bytes > kPoolMaxBytes) return ::operator new(bytes);
  return pool_allocate_slow(pool_size_class(bytes));
}
inline void pool_deallocate(void* p, std::size_t bytes) noexcept {
  if (bytes > kPoolMaxBytes) {
    ::operator delete(p);
    return;
  }
  pool_deallocate_slow(p, pool_size_class(bytes));
}

// For std::allocate_shared: the object and its control block come from the pool.
template <typename T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT: rebinding, as allocators do
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "pooled blocks have new's alignment");
    return static_cast<T*>(pool_allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { pool_deallocate(p, n * sizeof(T)); }
  // Without arguments, default-initialises a class with its own member initializers instead of
  // value-initialising it: that zero-fills the whole object first (a `rep stos` per TensorImpl).
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0 && !std::is_trivially_default_constructible_v<U>)
      ::new (static_cast<void*>(p)) U;
    else
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const PoolAllocator<U>&) const noexcept { return true; }
};

template <typename T, typename... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace loom::detail
