#pragma once
// A deliberately small backend for the test plugins: it allocates host memory and fills
// float32 tensors; every other primitive throws loom::DTypeError (and supports() says so).
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "loom/backend.hpp"
#include "loom/error.hpp"

namespace loom_test_plugin {

using loom::Conv2dParams;
using loom::PhiloxKey;
using loom::Pool2dParams;
using loom::Scalar;
using loom::Tensor;

class HostAllocator final : public loom::Allocator {
 public:
  void* allocate(std::size_t nbytes) override {
    stats_.allocations++;
    stats_.system_allocations++;
    stats_.allocated_bytes += nbytes;
    return std::aligned_alloc(64, (nbytes + 63) / 64 * 64 + 64);
  }
  void deallocate(void* ptr, std::size_t nbytes) noexcept override {
    stats_.allocated_bytes -= nbytes;
    std::free(ptr);
  }
  loom::AllocatorStats stats() const override { return stats_; }

 private:
  loom::AllocatorStats stats_;
};

// Every primitive throws; TestBackend overrides the one it implements.
class ThrowingBackend : public loom::Backend {
 public:
#define LOOM_OP(family, name, params) \
  void name params override { unsupported(#name); }
#include "loom/ops.def"
#undef LOOM_OP

 protected:
  [[noreturn]] void unsupported(const char* op) const {
    throw loom::DTypeError(std::string(op) + ": the " + std::string(name()) +
                           " test backend has no kernel for it");
  }
};

class TestBackend final : public ThrowingBackend {
 public:
  explicit TestBackend(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  loom::DeviceType device_type() const override { return loom::DeviceType::CPU; }
  bool supports(loom::Op op, loom::DType dtype) const override {
    return op == loom::Op::fill && dtype == loom::DType::Float32;
  }
  loom::Allocator& allocator(int) override { return allocator_; }
  void copy_from_host(void* dst, const void* src, std::size_t n, int) override { std::memcpy(dst, src, n); }
  void copy_to_host(void* dst, const void* src, std::size_t n, int) override { std::memcpy(dst, src, n); }

  void fill(const Tensor& out, Scalar value) override {
    if (out.dtype() != loom::DType::Float32) unsupported("fill");
    float* base = static_cast<float*>(out.raw_data());
    const float v = value.to<float>();
    // Walk every element of any strided layout.
    std::vector<std::int64_t> idx(out.sizes().size(), 0);
    for (std::int64_t n = 0; n < out.numel(); ++n) {
      std::int64_t off = 0;
      for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * out.strides()[d];
      base[off] = v;
      for (std::size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < out.sizes()[d]) break;
        idx[d] = 0;
      }
    }
  }

 private:
  std::string name_;
  HostAllocator allocator_;
};

inline loom::BackendFactory test_backend_factory(std::string name) {
  return [name] { return std::make_unique<TestBackend>(name); };
}

}  // namespace loom_test_plugin
