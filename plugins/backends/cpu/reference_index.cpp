// Reference index kernels: one element at a time by multi-index, the index substituted in the
// indexed dim (see index.cpp for the fast ones).
#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "element_ops.hpp"
#include "elementwise_loops.hpp"

namespace loom::cpu {

void CpuReferenceBackend::index_select(const Tensor& out, const Tensor& x, int dim, const Tensor& index) {
  visit_dtype<kernel_dtypes(Op::index_select)>(Op::index_select, x.dtype(), [&]<typename T>(TypeTag<T>) {
    const StridedView<T> ov = view_of<T>(out);
    const StridedView<const T> xv = view_of<const T>(x);
    const std::int64_t* picks = static_cast<const std::int64_t*>(index.raw_data());
    const std::int64_t pick_stride = extent_along(index, 0).second;
    Shape x_index;
    for_each_index(out.sizes(), [&](const Shape& out_index) {
      x_index = out_index;
      x_index[dim] = picks[out_index[dim] * pick_stride];
      ov.at(out_index) = xv.at(x_index);
    });
  });
}

void CpuReferenceBackend::gather(const Tensor& out, const Tensor& x, int dim, const Tensor& index) {
  visit_dtype<kernel_dtypes(Op::gather)>(Op::gather, x.dtype(), [&]<typename T>(TypeTag<T>) {
    const StridedView<T> ov = view_of<T>(out);
    const StridedView<const T> xv = view_of<const T>(x);
    const StridedView<const std::int64_t> iv = view_of<const std::int64_t>(index);
    Shape x_index;
    for_each_index(out.sizes(), [&](const Shape& out_index) {
      x_index = out_index;
      if (x.dim() > 0) x_index[dim] = iv.at(out_index);
      ov.at(out_index) = xv.at(x_index);
    });
  });
}

void CpuReferenceBackend::scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  visit_dtype<kernel_dtypes(Op::scatter_add)>(Op::scatter_add, src.dtype(), [&]<typename T>(TypeTag<T>) {
    const StridedView<T> ov = view_of<T>(out);
    const StridedView<const T> sv = view_of<const T>(src);
    const StridedView<const std::int64_t> iv = view_of<const std::int64_t>(index);
    const ElementOp<Op::add> add;
    Shape out_index;
    // Row-major over index: every output element receives its terms in increasing order of
    // the indexed coordinate, which is the order the fast kernel keeps too.
    for_each_index(index.sizes(), [&](const Shape& src_index) {
      out_index = src_index;
      if (out.dim() > 0) out_index[dim] = iv.at(src_index);
      ov.at(out_index) = add(ov.at(out_index), sv.at(src_index));
    });
  });
}

void CpuReferenceBackend::masked_fill(const Tensor& out, const Tensor& x, const Tensor& mask, Scalar value) {
  visit_dtype<kernel_dtypes(Op::masked_fill)>(Op::masked_fill, x.dtype(), [&]<typename T>(TypeTag<T>) {
    const T fill_value = scalar_to<T>(value);
    reference_map(out.sizes(), [fill_value](T v, bool masked) { return masked ? fill_value : v; },
                  view_of<T>(out), view_of<const T>(x), view_of<const bool>(mask));
  });
}

}  // namespace loom::cpu
