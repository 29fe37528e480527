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

// ---- unary --------------------------------------------------------------------------------------

void CpuReferenceBackend::exp(const Tensor& out, const Tensor& x) {
  reference_unary<Op::exp>(out, x);
}
void CpuReferenceBackend::expm1(const Tensor& out, const Tensor& x) {
  reference_unary<Op::expm1>(out, x);
}
void CpuReferenceBackend::log(const Tensor& out, const Tensor& x) {
  reference_unary<Op::log>(out, x);
}
void CpuReferenceBackend::log1p(const Tensor& out, const Tensor& x) {
  reference_unary<Op::log1p>(out, x);
}
void CpuReferenceBackend::sqrt(const Tensor& out, const Tensor& x) {
  reference_unary<Op::sqrt>(out, x);
}
void CpuReferenceBackend::rsqrt(const Tensor& out, const Tensor& x) {
  reference_unary<Op::rsqrt>(out, x);
}
void CpuReferenceBackend::sin(const Tensor& out, const Tensor& x) {
  reference_unary<Op::sin>(out, x);
}
void CpuReferenceBackend::cos(const Tensor& out, const Tensor& x) {
  reference_unary<Op::cos>(out, x);
}
void CpuReferenceBackend::tanh(const Tensor& out, const Tensor& x) {
  reference_unary<Op::tanh>(out, x);
}
void CpuReferenceBackend::sigmoid(const Tensor& out, const Tensor& x) {
  reference_unary<Op::sigmoid>(out, x);
}
void CpuReferenceBackend::erf(const Tensor& out, const Tensor& x) {
  reference_unary<Op::erf>(out, x);
}
void CpuReferenceBackend::floor(const Tensor& out, const Tensor& x) {
  reference_unary<Op::floor>(out, x);
}
void CpuReferenceBackend::ceil(const Tensor& out, const Tensor& x) {
  reference_unary<Op::ceil>(out, x);
}
void CpuReferenceBackend::round(const Tensor& out, const Tensor& x) {
  reference_unary<Op::round>(out, x);
}
void CpuReferenceBackend::neg(const Tensor& out, const Tensor& x) {
  reference_unary<Op::neg>(out, x);
}
void CpuReferenceBackend::abs(const Tensor& out, const Tensor& x) {
  reference_unary<Op::abs>(out, x);
}
void CpuReferenceBackend::sign(const Tensor& out, const Tensor& x) {
  reference_unary<Op::sign>(out, x);
}
void CpuReferenceBackend::logical_not(const Tensor& out, const Tensor& x) {
  reference_unary<Op::logical_not>(out, x);
}

// ---- binary -------------------------------------------------------------------------------------

void CpuReferenceBackend::add(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::add>(out, a, b);
}
void CpuReferenceBackend::sub(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::sub>(out, a, b);
}
void CpuReferenceBackend::mul(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::mul>(out, a, b);
}
void CpuReferenceBackend::div(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::div>(out, a, b);
}
void CpuReferenceBackend::pow(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::pow>(out, a, b);
}
void CpuReferenceBackend::maximum(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::maximum>(out, a, b);
}
void CpuReferenceBackend::minimum(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::minimum>(out, a, b);
}
void CpuReferenceBackend::logical_and(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::logical_and>(out, a, b);
}
void CpuReferenceBackend::logical_or(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_binary<Op::logical_or>(out, a, b);
}

// ---- compare ------------------------------------------------------------------------------------

void CpuReferenceBackend::eq(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_compare<Op::eq>(out, a, b);
}
void CpuReferenceBackend::ne(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_compare<Op::ne>(out, a, b);
}
void CpuReferenceBackend::lt(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_compare<Op::lt>(out, a, b);
}
void CpuReferenceBackend::le(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_compare<Op::le>(out, a, b);
}
void CpuReferenceBackend::gt(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_compare<Op::gt>(out, a, b);
}
void CpuReferenceBackend::ge(const Tensor& out, const Tensor& a, const Tensor& b) {
  reference_compare<Op::ge>(out, a, b);
}

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
