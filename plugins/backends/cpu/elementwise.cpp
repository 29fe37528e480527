// Fast kernels of the memory, unary, binary, compare and ternary families: every dtype goes
// through map_elementwise (dims coalesced in memory order, unit-stride and broadcast runs
// vectorised, the outer range split over the OpenMP pool); dense float32 exp, tanh and sigmoid
// go to oneDNN (onednn_eltwise.hpp), dense float32 erf to fast_math.hpp's. The reference kernels beside these are in
// reference_elementwise.cpp.
#include <cstring>
#include <type_traits>

#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "element_ops.hpp"
#include "elementwise_loops.hpp"
#include "fast_math.hpp"
#include "onednn_eltwise.hpp"

namespace loom::cpu {
namespace {

constexpr std::int64_t grain_of(Op op) {
  return is_costly(op) ? kMinCostlyElementsPerThread : kMinElementsPerThread;
}

// Below this many elements a oneDNN call (~1 µs) costs more than glibc's scalar loop.
constexpr std::int64_t kMinOneDnnElements = 1024;

// The number of elements when out and x are both dense and in the same order (so that element i
// of one is element i of the other in memory), else 0.
std::int64_t dense_pair_numel(const Tensor& out, const Tensor& x) {
  const StridedLayout<2> layout = make_layout<2>(out.sizes(), {out.strides(), x.strides()}, DimOrder::Memory);
  const bool dense = layout.sizes.size() == 1 && layout.inner_stride(0) == 1 && layout.inner_stride(1) == 1;
  return dense ? layout.numel : 0;
}

// op of a dense float32 tensor, split over the pool and computed by oneDNN range by range; a
// range oneDNN refuses is computed by ElementOp instead. oneDNN's vector kernels cost about what
// an add does per element, so the split is that of cheap ops.
template <Op op>
bool unary_through_onednn(const Tensor& out, const Tensor& x) {
  const std::int64_t n = dense_pair_numel(out, x);
  if (n < kMinOneDnnElements) return false;
  const float* x_data = static_cast<const float*>(x.raw_data());
  float* out_data = static_cast<float*>(out.raw_data());
  parallel_for(n, kMinElementsPerThread, [&](std::int64_t begin, std::int64_t end) {
    if (onednn_eltwise(op, x_data + begin, out_data + begin, end - begin)) return;
    for (std::int64_t i = begin; i < end; ++i) out_data[i] = ElementOp<op>{}(x_data[i]);
  });
  return true;
}

// erf of a dense float32 range: glibc's erff is a call per element (GELU's forward was 5.6 ms of
// a 112 ms ViT step at batch 128, one thread); fast_erf vectorises, 16 wide on AVX-512.
LOOM_CPU_CLONES void erf_range(const float* x, float* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = fast_erf(x[i]);
}

bool erf_dense(const Tensor& out, const Tensor& x) {
  const std::int64_t n = dense_pair_numel(out, x);
  if (n == 0) return false;
  const float* x_data = static_cast<const float*>(x.raw_data());
  float* out_data = static_cast<float*>(out.raw_data());
  parallel_for(n, kMinElementsPerThread,
               [&](std::int64_t begin, std::int64_t end) { erf_range(x_data + begin, out_data + begin, end - begin); });
  return true;
}

template <Op op>
void fast_unary(const Tensor& out, const Tensor& x) {
  visit_dtype<kernel_dtypes(op)>(op, x.dtype(), [&]<typename T>(TypeTag<T>) {
    if constexpr (std::is_same_v<T, float> && has_onednn_eltwise(op)) {
      if (unary_through_onednn<op>(out, x)) return;
    }
    if constexpr (std::is_same_v<T, float> && op == Op::erf) {
      if (erf_dense(out, x)) return;
    }
    map_elementwise<T, T>(grain_of(op), ElementOp<op>{}, out, x);
  });
}

template <Op op>
void fast_binary(const Tensor& out, const Tensor& a, const Tensor& b) {
  visit_dtype<kernel_dtypes(op)>(op, a.dtype(), [&]<typename T>(TypeTag<T>) {
    map_elementwise<T, T, T>(grain_of(op), ElementOp<op>{}, out, a, b);
  });
}

template <Op op>
void fast_compare(const Tensor& out, const Tensor& a, const Tensor& b) {
  visit_dtype<kernel_dtypes(op)>(op, a.dtype(), [&]<typename T>(TypeTag<T>) {
    map_elementwise<bool, T, T>(grain_of(op), ElementOp<op>{}, out, a, b);
  });
}

// Same dtype and both dense in the same order: one memcpy, split over the pool.
bool copy_as_memcpy(const Tensor& out, const Tensor& x) {
  if (out.dtype() != x.dtype()) return false;
  const std::int64_t n = dense_pair_numel(out, x);
  if (n == 0) return false;
  auto* dst = static_cast<char*>(out.raw_data());
  const auto* src = static_cast<const char*>(x.raw_data());
  if (dst == src) return true;  // copying a view onto itself
  const std::size_t itemsize = out.itemsize();
  parallel_for(n, kMinElementsPerThread, [&](std::int64_t begin, std::int64_t end) {
    std::memcpy(dst + begin * itemsize, src + begin * itemsize, static_cast<std::size_t>(end - begin) * itemsize);
  });
  return true;
}

}  // namespace

// ---- memory -------------------------------------------------------------------------------------

void CpuBackend::copy(const Tensor& out, const Tensor& x) {
  if (copy_as_memcpy(out, x)) return;
  visit_dtype<kAllDTypes>(Op::copy, out.dtype(), [&]<typename To>(TypeTag<To>) {
    visit_dtype<kAllDTypes>(Op::copy, x.dtype(), [&]<typename From>(TypeTag<From>) {
      map_elementwise<To, From>(kMinElementsPerThread, [](From v) { return convert<To>(v); }, out, x);
    });
  });
}

void CpuBackend::fill(const Tensor& out, Scalar value) {
  visit_dtype<kernel_dtypes(Op::fill)>(Op::fill, out.dtype(), [&]<typename T>(TypeTag<T>) {
    const T v = scalar_to<T>(value);
    map_elementwise<T>(kMinElementsPerThread, [v] { return v; }, out);
  });
}

void CpuBackend::arange(const Tensor& out, Scalar start, Scalar step) {
  visit_dtype<kernel_dtypes(Op::arange)>(Op::arange, out.dtype(), [&]<typename T>(TypeTag<T>) {
    // out: (n,)
    T* data = static_cast<T*>(out.raw_data());
    const std::int64_t stride = out.stride(0);
    parallel_for(out.numel(), kMinElementsPerThread, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) data[i * stride] = arange_element<T>(start, step, i);
    });
  });
}

// ---- unary, binary, compare: every primitive of these families, generated from ops.def --------
#define LOOM_FORWARD_CLASS CpuBackend
#define LOOM_FORWARD_KERNEL(family) fast_##family
#include "elementwise_forwarders.inc"

// ---- ternary ------------------------------------------------------------------------------------

void CpuBackend::where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  visit_dtype<kernel_dtypes(Op::where)>(Op::where, a.dtype(), [&]<typename T>(TypeTag<T>) {
    // bool is stored as one byte 0/1: read as uint8 so that the select vectorises (WhereOp).
    map_elementwise<T, std::uint8_t, T, T>(kMinElementsPerThread, WhereOp{}, out, cond, a, b);
  });
}

void CpuBackend::clamp(const Tensor& out, const Tensor& x, Scalar lo, Scalar hi) {
  visit_dtype<kernel_dtypes(Op::clamp)>(Op::clamp, x.dtype(), [&]<typename T>(TypeTag<T>) {
    map_elementwise<T, T>(kMinElementsPerThread, ClampOp<T>{scalar_to<T>(lo), scalar_to<T>(hi)}, out, x);
  });
}

}  // namespace loom::cpu
