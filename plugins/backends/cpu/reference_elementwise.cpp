// Reference kernels of the memory, unary, binary, compare and ternary families: one element
// at a time, in row-major order, by multi-index offset arithmetic (see elementwise.cpp for the
// fast ones).
#include "backend.hpp"
#include "dtype_dispatch.hpp"
#include "element_ops.hpp"
#include "elementwise_loops.hpp"

namespace loom::cpu {
namespace {

template <Op op>
void reference_unary(const Tensor& out, const Tensor& x) {
  visit_dtype<kernel_dtypes(op)>(op, x.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_map(out.sizes(), ElementOp<op>{}, view_of<T>(out), view_of<const T>(x));
  });
}

template <Op op>
void reference_binary(const Tensor& out, const Tensor& a, const Tensor& b) {
  visit_dtype<kernel_dtypes(op)>(op, a.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_map(out.sizes(), ElementOp<op>{}, view_of<T>(out), view_of<const T>(a), view_of<const T>(b));
  });
}

template <Op op>
void reference_compare(const Tensor& out, const Tensor& a, const Tensor& b) {
  visit_dtype<kernel_dtypes(op)>(op, a.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_map(out.sizes(), ElementOp<op>{}, view_of<bool>(out), view_of<const T>(a), view_of<const T>(b));
  });
}

}  // namespace

// ---- memory -------------------------------------------------------------------------------------

void CpuReferenceBackend::copy(const Tensor& out, const Tensor& x) {
  visit_dtype<kAllDTypes>(Op::copy, out.dtype(), [&]<typename To>(TypeTag<To>) {
    visit_dtype<kAllDTypes>(Op::copy, x.dtype(), [&]<typename From>(TypeTag<From>) {
      reference_map(out.sizes(), [](From v) { return convert<To>(v); }, view_of<To>(out), view_of<const From>(x));
    });
  });
}

void CpuReferenceBackend::fill(const Tensor& out, Scalar value) {
  visit_dtype<kernel_dtypes(Op::fill)>(Op::fill, out.dtype(), [&]<typename T>(TypeTag<T>) {
    const T v = scalar_to<T>(value);
    reference_map(out.sizes(), [v] { return v; }, view_of<T>(out));
  });
}

void CpuReferenceBackend::arange(const Tensor& out, Scalar start, Scalar step) {
  visit_dtype<kernel_dtypes(Op::arange)>(Op::arange, out.dtype(), [&]<typename T>(TypeTag<T>) {
    const StridedView<T> o = view_of<T>(out);
    for_each_index(out.sizes(), [&](const Shape& index) { o.at(index) = arange_element<T>(start, step, index[0]); });
  });
}

// ---- unary, binary, compare: every primitive of these families, generated from ops.def --------
#define LOOM_FORWARD_CLASS CpuReferenceBackend
#define LOOM_FORWARD_KERNEL(family) reference_##family
#include "elementwise_forwarders.inc"

// ---- ternary ------------------------------------------------------------------------------------

void CpuReferenceBackend::where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  visit_dtype<kernel_dtypes(Op::where)>(Op::where, a.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_map(out.sizes(), WhereOp{}, view_of<T>(out), view_of<const bool>(cond), view_of<const T>(a),
                  view_of<const T>(b));
  });
}

void CpuReferenceBackend::clamp(const Tensor& out, const Tensor& x, Scalar lo, Scalar hi) {
  visit_dtype<kernel_dtypes(Op::clamp)>(Op::clamp, x.dtype(), [&]<typename T>(TypeTag<T>) {
    reference_map(out.sizes(), ClampOp<T>{scalar_to<T>(lo), scalar_to<T>(hi)}, view_of<T>(out), view_of<const T>(x));
  });
}

}  // namespace loom::cpu
