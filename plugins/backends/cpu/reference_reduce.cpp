// Reference reductions: for each output element, a serial fold over the reduced dims in
// row-major order, accumulating float32 in double (see reduce.cpp for the fast ones).
#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "element_ops.hpp"
#include "reduce_common.hpp"
#include "strided_iteration.hpp"

namespace loom::cpu {
namespace {

// out[o] = combine(...combine(init, x[o + r0])..., x[o + rn]) over the reduced positions r in
// row-major order. In the kept dims r is 0; in the reduced dims o is 0.
template <typename In, typename Out, typename Acc, typename Combine>
void reference_reduce(const Tensor& out, const Tensor& x, Acc init, Combine combine) {
  Shape reduced_sizes(x.sizes().size(), 1);
  for (std::size_t d = 0; d < reduced_sizes.size(); ++d)
    if (out.sizes()[d] == 1) reduced_sizes[d] = x.sizes()[d];

  const StridedView<const In> xv = view_of<const In>(x);
  const StridedView<Out> ov = view_of<Out>(out);
  Shape x_index(x.sizes().size(), 0);
  for_each_index(out.sizes(), [&](const Shape& out_index) {
    Acc acc = init;
    for_each_index(reduced_sizes, [&](const Shape& reduced_index) {
      for (std::size_t d = 0; d < x_index.size(); ++d) x_index[d] = out_index[d] + reduced_index[d];
      acc = combine(acc, static_cast<Acc>(xv.at(x_index)));
    });
    ov.at(out_index) = static_cast<Out>(acc);
  });
}

template <Op op>
void reference_extremum(const Tensor& values, const Tensor& indices, const Tensor& x, int dim) {
  visit_dtype<kernel_dtypes(op)>(op, x.dtype(), [&]<typename T>(TypeTag<T>) {
    // Named, not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const auto along = extent_along(x, dim);
    const auto extent = along.first, stride = along.second;
    const T* x_data = static_cast<const T*>(x.raw_data());
    const StridedView<T> vv = view_of<T>(values);
    const StridedView<std::int64_t> iv = view_of<std::int64_t>(indices);
    // values' index is 0 along dim, so it addresses the first element of x along dim.
    for_each_index(values.sizes(), [&](const Shape& index) {
      const auto [best, at] = find_extremum<op == Op::max>(x_data + element_offset(index, x.strides()), extent, stride);
      vv.at(index) = best;
      iv.at(index) = at;
    });
  });
}

}  // namespace

void CpuReferenceBackend::sum(const Tensor& out, const Tensor& x) {
  visit_dtype<kernel_dtypes(Op::sum)>(Op::sum, x.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_reduce<T, SumOutType<T>>(out, x, SumType<T>(0), ElementOp<Op::add>{});
  });
}

void CpuReferenceBackend::prod(const Tensor& out, const Tensor& x) {
  visit_dtype<kernel_dtypes(Op::prod)>(Op::prod, x.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_reduce<T, SumOutType<T>>(out, x, SumType<T>(1), ElementOp<Op::mul>{});
  });
}

void CpuReferenceBackend::max(const Tensor& values, const Tensor& indices, const Tensor& x, int dim) {
  reference_extremum<Op::max>(values, indices, x, dim);
}

void CpuReferenceBackend::min(const Tensor& values, const Tensor& indices, const Tensor& x, int dim) {
  reference_extremum<Op::min>(values, indices, x, dim);
}

}  // namespace loom::cpu
