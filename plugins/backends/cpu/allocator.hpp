#pragma once
// The CPU allocator: 64-byte aligned blocks in size classes (four per power of two, so at most
// 25% is wasted), cached on free and reused, so that a steady-state training step, which frees
// and allocates the same sizes every iteration, never reaches the OS. Thread-safe: a tensor may
// be freed on any thread. One instance serves both CPU backends.
#include <array>
#include <cstddef>
#include <mutex>

#include "loom/backend.hpp"

namespace loom::cpu {

class CpuAllocator final : public Allocator {
 public:
  static constexpr std::size_t kAlignment = 64;

  CpuAllocator() = default;
  CpuAllocator(const CpuAllocator&) = delete;
  CpuAllocator& operator=(const CpuAllocator&) = delete;
  ~CpuAllocator() override;

  void* allocate(std::size_t nbytes) override;
  void deallocate(void* ptr, std::size_t nbytes) noexcept override;
  AllocatorStats stats() const override;
  void empty_cache() override;

 private:
  // 64, 128, 192, 256, then four classes per doubling: 320, 384, 448, 512, 640, ...
  static constexpr std::size_t kNumClasses = 4 + 4 * (64 - 8);
  static std::size_t size_class(std::size_t nbytes);
  static std::size_t class_bytes(std::size_t size_class);
  void release_cached_blocks();  // with mutex_ held

  // A cached block keeps the next cached block of its class in its first bytes, so that
  // deallocate (noexcept) never allocates.
  struct FreeBlock {
    FreeBlock* next;
  };
  mutable std::mutex mutex_;
  std::array<FreeBlock*, kNumClasses> free_lists_{};
  AllocatorStats stats_;
};

// Temporary memory for a kernel (a contiguous copy of an operand, per-thread partials) drawn
// from the pooled allocator and returned when the buffer goes out of scope.
class ScratchBuffer {
 public:
  ScratchBuffer(Allocator& allocator, std::size_t nbytes)
      : allocator_(allocator), nbytes_(nbytes), data_(allocator.allocate(nbytes)) {}
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { allocator_.deallocate(data_, nbytes_); }

  template <typename T>
  T* as() const { return static_cast<T*>(data_); }

 private:
  Allocator& allocator_;
  std::size_t nbytes_;
  void* data_;
};

}  // namespace loom::cpu
