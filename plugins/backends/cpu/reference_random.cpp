// Reference random kernels: element i (row-major position in out) is a function of
// (key, i) only, through loom/philox.hpp (see random.cpp for the parallel ones).
#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "element_ops.hpp"
#include "strided_iteration.hpp"

namespace loom::cpu {
namespace {

// out at row-major position i = element(i).
template <typename T, typename Element>
void reference_generate(const Tensor& out, const Element& element) {
  const StridedView<T> ov = view_of<T>(out);
  std::uint64_t position = 0;
  for_each_index(out.sizes(), [&](const Shape& index) { ov.at(index) = element(position++); });
}

}  // namespace

void CpuReferenceBackend::uniform(const Tensor& out, Scalar low, Scalar high, PhiloxKey key) {
  visit_dtype<kernel_dtypes(Op::uniform)>(Op::uniform, out.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_generate<T>(out, UniformElement<T>(low, high, key));
  });
}

void CpuReferenceBackend::normal(const Tensor& out, Scalar mean, Scalar std_dev, PhiloxKey key) {
  visit_dtype<kernel_dtypes(Op::normal)>(Op::normal, out.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_generate<T>(out, NormalElement<T>(mean, std_dev, key));
  });
}

void CpuReferenceBackend::bernoulli(const Tensor& out, Scalar p, PhiloxKey key) {
  visit_dtype<kernel_dtypes(Op::bernoulli)>(Op::bernoulli, out.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_generate<T>(out, BernoulliElement<T>(p, key));
  });
}

}  // namespace loom::cpu
