// Fast random kernels (reference kernels: reference_random.cpp). Element i of out is a pure
// function of (key, i), i its row-major position, so any split over threads gives the same
// tensor as the serial reference, bit for bit.
#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "element_ops.hpp"
#include "strided_iteration.hpp"

namespace loom::cpu {
namespace {

template <typename T, typename Element>
void generate(const Tensor& out, const Element& element) {
  // Row-major order: coalescing keeps the numbering of positions, reordering would not.
  const StridedLayout<1> layout = make_layout<1>(out.sizes(), {out.strides()}, DimOrder::RowMajor);
  T* data = static_cast<T*>(out.raw_data());
  const std::int64_t stride = layout.inner_stride(0);
  parallel_for(layout.numel, kMinCostlyElementsPerThread, [&](std::int64_t first, std::int64_t last) {
    for_each_run(layout, first, last, [&](const Offsets<1>& offset, std::int64_t position, std::int64_t n) {
      T* run = data + offset[0];
      for (std::int64_t j = 0; j < n; ++j) run[j * stride] = element(static_cast<std::uint64_t>(position + j));
    });
  });
}

}  // namespace

void CpuBackend::uniform(const Tensor& out, Scalar low, Scalar high, PhiloxKey key) {
  visit_dtype<kernel_dtypes(Op::uniform)>(Op::uniform, out.dtype(), [&]<typename T>(TypeTag<T>) {
    generate<T>(out, UniformElement<T>(low, high, key));
  });
}

void CpuBackend::normal(const Tensor& out, Scalar mean, Scalar std_dev, PhiloxKey key) {
  visit_dtype<kernel_dtypes(Op::normal)>(Op::normal, out.dtype(), [&]<typename T>(TypeTag<T>) {
    generate<T>(out, NormalElement<T>(mean, std_dev, key));
  });
}

void CpuBackend::bernoulli(const Tensor& out, Scalar p, PhiloxKey key) {
  visit_dtype<kernel_dtypes(Op::bernoulli)>(Op::bernoulli, out.dtype(), [&]<typename T>(TypeTag<T>) {
    generate<T>(out, BernoulliElement<T>(p, key));
  });
}

}  // namespace loom::cpu
