#include "allocator.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>

#include "loom/check.hpp"

namespace loom::cpu {

CpuAllocator::~CpuAllocator() {
  std::lock_guard lock(mutex_);
  release_cached_blocks();
}

std::size_t CpuAllocator::size_class(std::size_t nbytes) {
  const std::size_t n = std::max<std::size_t>(nbytes, 1);
  if (n <= 256) return (n + 63) / 64 - 1;
  // 2^p < n <= 2^(p+1), p >= 8; the doubling is cut into four steps of 2^(p-2).
  const std::size_t p = static_cast<std::size_t>(std::bit_width(n - 1)) - 1;
  const std::size_t steps = (n + (std::size_t{1} << (p - 2)) - 1) >> (p - 2);  // 5..8
  return 4 + 4 * (p - 8) + (steps - 5);
}

std::size_t CpuAllocator::class_bytes(std::size_t size_class) {
  if (size_class < 4) return 64 * (size_class + 1);
  const std::size_t p = 8 + (size_class - 4) / 4, steps = 5 + (size_class - 4) % 4;
  return steps << (p - 2);
}

void* CpuAllocator::allocate(std::size_t nbytes) {
  const std::size_t size_class = CpuAllocator::size_class(nbytes);
  const std::size_t bytes = class_bytes(size_class);
  std::lock_guard lock(mutex_);
  void* block = free_lists_[size_class];
  if (block != nullptr) {
    free_lists_[size_class] = free_lists_[size_class]->next;
  } else {
    block = std::aligned_alloc(kAlignment, bytes);
    if (block == nullptr) {  // cached blocks of other sizes may be what is missing
      release_cached_blocks();
      block = std::aligned_alloc(kAlignment, bytes);
    }
    LOOM_CHECK(block != nullptr, Error,
               "cpu allocator: out of memory allocating {} bytes ({} bytes held by live tensors)",
               nbytes, stats_.allocated_bytes);
    ++stats_.system_allocations;
    stats_.reserved_bytes += bytes;
  }
  ++stats_.allocations;
  stats_.allocated_bytes += bytes;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  return block;
}

void CpuAllocator::deallocate(void* ptr, std::size_t nbytes) noexcept {
  if (ptr == nullptr) return;
  const std::size_t size_class = CpuAllocator::size_class(nbytes);
  std::lock_guard lock(mutex_);
  auto* block = static_cast<FreeBlock*>(ptr);
  block->next = free_lists_[size_class];
  free_lists_[size_class] = block;
  stats_.allocated_bytes -= class_bytes(size_class);
}

AllocatorStats CpuAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CpuAllocator::empty_cache() {
  std::lock_guard lock(mutex_);
  release_cached_blocks();
}

void CpuAllocator::release_cached_blocks() {
  for (std::size_t size_class = 0; size_class < kNumClasses; ++size_class) {
    while (FreeBlock* block = free_lists_[size_class]) {
      free_lists_[size_class] = block->next;
      std::free(block);
      stats_.reserved_bytes -= class_bytes(size_class);
    }
  }
}

}  // namespace loom::cpu
