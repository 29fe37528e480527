#pragma once
// The two backends of the "cpu" plugin:
//  - "cpu-reference": plain serial kernels for every primitive and dtype, by multi-index offset
//    arithmetic over arbitrary strides; float32 sums accumulate in double. They are the truth
//    the conformance tests compare against (reference_*.cpp).
//  - "cpu": the fast backend. OpenMP-parallel coalesced loops, oneDNN and OpenBLAS GEMMs; every
//    primitive either has a fast path or says explicitly that it delegates to the reference
//    kernel it inherits (elementwise.cpp, reduce.cpp, matmul.cpp, index.cpp, random.cpp).
// Both share one allocator and the process's one OpenMP pool.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/backend.hpp"

namespace loom::cpu {

class CpuAllocator;

// What both CPU backends share: device, memory, threads and the supports() table.
class CpuBackendBase : public Backend {
 public:
  // Applies LOOM_NUM_THREADS (once per process) to the constructing thread's OpenMP pool size.
  explicit CpuBackendBase(CpuAllocator& allocator);

  DeviceType device_type() const override { return DeviceType::CPU; }
  std::vector<std::pair<std::string, std::string>> info() const override;
  bool supports(Op op, DType dtype) const override;

  Allocator& allocator(int device_index) override;
  void copy_from_host(void* dst, const void* src, std::size_t nbytes, int device_index) override;
  void copy_to_host(void* dst, const void* src, std::size_t nbytes, int device_index) override;

  // OpenMP's thread count is per calling thread: a data-loader worker that sets 1 keeps the
  // main thread's pool size.
  void set_num_threads(int n) override;
  int num_threads() const override;

 protected:
  CpuAllocator& cpu_allocator_;
};

class CpuReferenceBackend : public CpuBackendBase {
 public:
  using CpuBackendBase::CpuBackendBase;
  std::string_view name() const override { return "cpu-reference"; }
  std::vector<std::pair<std::string, std::string>> info() const override;

#define LOOM_OP(family, name, params) void name params override;
#include "loom/ops.def"
#undef LOOM_OP
};

class CpuBackend final : public CpuReferenceBackend {
 public:
  using CpuReferenceBackend::CpuReferenceBackend;
  std::string_view name() const override { return "cpu"; }
  std::vector<std::pair<std::string, std::string>> info() const override;

#define LOOM_OP(family, name, params) void name params override;
#include "loom/ops.def"
#undef LOOM_OP
};

}  // namespace loom::cpu
