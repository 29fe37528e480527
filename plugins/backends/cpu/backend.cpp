// What both CPU backends share (memory, threads, supports()) and what `loom info` shows of them.
#include "backend.hpp"

#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "allocator.hpp"
#include "dtype_dispatch.hpp"
#include "loom/check.hpp"

namespace loom::cpu {
namespace {

constexpr long kMaxThreads = 65536;

// LOOM_NUM_THREADS, when set, overrides OMP_NUM_THREADS (which libgomp read when it loaded).
void apply_thread_environment() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* text = std::getenv("LOOM_NUM_THREADS");
    if (text == nullptr || *text == '\0') return;
    char* end = nullptr;
    errno = 0;
    const long threads = std::strtol(text, &end, 10);
    LOOM_CHECK(errno == 0 && *end == '\0' && threads > 0, ValueError,
               "LOOM_NUM_THREADS: expected a positive integer, found '{}'", text);
    LOOM_CHECK(threads <= kMaxThreads, ValueError, "LOOM_NUM_THREADS: expected at most {} threads, found {}",
               kMaxThreads, threads);
    omp_set_num_threads(static_cast<int>(threads));
  });
}

std::string openblas_description() {
  const int parallel = openblas_get_parallel();  // 0 serial, 1 pthreads, 2 OpenMP
  return fmt::format("{} ({})", openblas_get_config(),
                     parallel == 2 ? "OpenMP" : parallel == 1 ? "pthreads" : "serial");
}

std::string onednn_description() {
  const dnnl_version_t* version = dnnl_version();
  const char* runtime = version->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "not OpenMP";
  std::string_view isa_name = dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa());  // "cpu_isa_avx512_core"
  if (isa_name.starts_with("cpu_isa_")) isa_name.remove_prefix(8);
  return fmt::format("{}.{}.{} (cpu runtime {}, isa {})", version->major, version->minor, version->patch,
                     runtime, isa_name);
}

}  // namespace

CpuBackendBase::CpuBackendBase(CpuAllocator& allocator) : cpu_allocator_(allocator) {
  apply_thread_environment();
}

bool CpuBackendBase::supports(Op op, DType dtype) const { return (kernel_dtypes(op) & dtype_bit(dtype)) != 0; }

Allocator& CpuBackendBase::allocator(int) { return cpu_allocator_; }

void CpuBackendBase::copy_from_host(void* dst, const void* src, std::size_t nbytes, int) {
  std::memcpy(dst, src, nbytes);
}

void CpuBackendBase::copy_to_host(void* dst, const void* src, std::size_t nbytes, int) {
  std::memcpy(dst, src, nbytes);
}

void CpuBackendBase::set_num_threads(int n) { omp_set_num_threads(n); }

int CpuBackendBase::num_threads() const { return omp_get_max_threads(); }

std::vector<std::pair<std::string, std::string>> CpuBackendBase::info() const {
  const AllocatorStats stats = cpu_allocator_.stats();
  return {
      {"threads", std::to_string(omp_get_max_threads())},
      {"allocator", fmt::format("pooled, {}-byte aligned; {} bytes reserved, {} in use",
                                CpuAllocator::kAlignment, stats.reserved_bytes, stats.allocated_bytes)},
  };
}

std::vector<std::pair<std::string, std::string>> CpuReferenceBackend::info() const {
  auto rows = CpuBackendBase::info();
  rows.emplace_back("kernels", "reference: serial loops over arbitrary strides, float32 sums in double");
  return rows;
}

std::vector<std::pair<std::string, std::string>> CpuBackend::info() const {
  auto rows = CpuBackendBase::info();
  rows.emplace_back("BLAS", openblas_description());
  rows.emplace_back("oneDNN", onednn_description());
  rows.emplace_back("matmul",
                    "float32: oneDNN sgemm (OpenBLAS below M·N·K = 16384 with M > 1); float64: OpenBLAS dgemm; "
                    "serial loop up to M·N·K = 256 (4096 when M = 1)");
  rows.emplace_back("kernels",
                    "OpenMP, serial below 32768 elements (4096 for glibc transcendentals and random); "
                    "float32 exp, tanh, sigmoid through oneDNN eltwise; float32 batch norm through oneDNN");
  return rows;
}

}  // namespace loom::cpu
