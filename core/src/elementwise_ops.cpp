// Elementwise ops: promotion, broadcasting and output layout are decided here; the backend
// sees operands of out's shape (stride-0 where broadcast) and of the compute dtype.
#include <limits>

#include "internal.hpp"
#include "raw_ops.hpp"

namespace loom::raw {

namespace {

using detail::backend_checked;
using detail::make_tensor;
using UnaryFn = void (Backend::*)(const Tensor&, const Tensor&);
using BinaryFn = void (Backend::*)(const Tensor&, const Tensor&, const Tensor&);

void check_defined(std::string_view op, const Tensor& t) {
  LOOM_CHECK(t.defined(), ValueError, "{}: an input tensor is undefined", op);
}

// The output of an elementwise op keeps the layout of its first full-shape dense input
// (channels-last stays channels-last, as in PyTorch).
Tensor make_output(const Shape& shape, DType dtype, Device device, const Tensor& a,
                   const Tensor* b = nullptr) {
  // An expanded (broadcast) input has the full shape but no layout of its own: skip it.
  auto full_and_dense = [&](const Tensor& t) { return t.sizes() == shape && t.is_non_overlapping_and_dense(); };
  const Tensor& like = (!b || full_and_dense(a) || !full_and_dense(*b)) ? a : *b;
  return make_tensor(shape, detail::strides_like(shape, like), dtype, device);
}

Tensor unary(Op op, UnaryFn fn, const Tensor& x, DType compute) {
  check_defined(op_name(op), x);
  // raw, not Tensor::to: this layer never records, and the public op's bookkeeping (profile
  // scope, grad check, closure) cost more than the no-op conversion it usually is.
  Tensor xc = raw::to_dtype(x, compute);
  Tensor out = make_output(x.sizes(), compute, x.device(), x);
  if (out.numel() > 0) (backend_checked(op, x.device(), compute).*fn)(out, xc);
  return out;
}

// Unary float functions: integral and bool inputs are computed in float32 (PyTorch).
Tensor unary_float(Op op, UnaryFn fn, const Tensor& x) {
  check_defined(op_name(op), x);
  return unary(op, fn, x, is_floating(x.dtype()) ? x.dtype() : kDefaultFloat);
}

Tensor unary_numeric(Op op, UnaryFn fn, const Tensor& x) {
  check_defined(op_name(op), x);
  LOOM_CHECK(x.dtype() != DType::Bool, DTypeError,
             "{}: expected a numeric tensor, found bool (use logical_not for bool tensors)", op_name(op));
  return unary(op, fn, x, x.dtype());
}

Tensor binary(Op op, BinaryFn fn, const Tensor& a, const Tensor& b, DType compute, DType out_dtype) {
  const std::string_view name = op_name(op);
  check_defined(name, a);
  check_defined(name, b);
  detail::check_same_device(name, a, b);
  Shape shape = detail::broadcast_shapes_for(name, a.sizes(), b.sizes());
  Tensor out = make_output(shape, out_dtype, a.device(), a, &b);
  if (out.numel() > 0) {
    Backend& be = backend_checked(op, a.device(), compute);
    // raw conversions and views (this layer never records); both are no-ops when nothing changes.
    (be.*fn)(out, raw::expand(raw::to_dtype(a, compute), shape), raw::expand(raw::to_dtype(b, compute), shape));
  }
  return out;
}

Tensor logical(Op op, BinaryFn fn, const Tensor& a, const Tensor& b);

Tensor arithmetic(Op op, BinaryFn fn, const Tensor& a, const Tensor& b) {
  const DType t = result_type(a, b);
  if (t == DType::Bool) {
    // As PyTorch: on bools, + is "or" and * is "and"; the other operators are errors.
    if (op == Op::add) return logical(Op::logical_or, &Backend::logical_or, a, b);
    if (op == Op::mul) return logical(Op::logical_and, &Backend::logical_and, a, b);
    LOOM_THROW(DTypeError, "{}: not defined for two bool tensors (use logical_not, logical_and, logical_or)",
               op_name(op));
  }
  return binary(op, fn, a, b, t, t);
}

Tensor true_divide(const Tensor& a, const Tensor& b) {
  DType t = result_type(a, b);
  if (!is_floating(t)) t = kDefaultFloat;
  return binary(Op::div, &Backend::div, a, b, t, t);
}

Tensor power(const Tensor& a, const Tensor& b) {
  const DType t = result_type(a, b);
  LOOM_CHECK(t != DType::Bool, DTypeError, "pow: expected numeric tensors, found bool");
  if (is_integral(t) && b.numel() > 0 && b.dtype() != DType::Bool && !is_floating(b.dtype())) {
    LOOM_CHECK(raw::min(b).item<std::int64_t>() >= 0, ValueError,
               "pow: integers to negative integer powers are not allowed (exponent tensor has a "
               "negative value); use a floating base");
  }
  return binary(Op::pow, &Backend::pow, a, b, t, t);
}

Tensor compare(Op op, BinaryFn fn, const Tensor& a, const Tensor& b) {
  return binary(op, fn, a, b, result_type(a, b), DType::Bool);
}

Tensor logical(Op op, BinaryFn fn, const Tensor& a, const Tensor& b) {
  return binary(op, fn, raw::to_dtype(a, DType::Bool), raw::to_dtype(b, DType::Bool), DType::Bool, DType::Bool);
}

}  // namespace

Tensor wrap_scalar(Scalar s, const Tensor& other) {
  check_defined("scalar op", other);
  return scalar_tensor(s, TensorOptions(result_type(other, s), other.device()));
}

// ---- unary ----
#define LOOM_UNARY_FLOAT(name) \
  Tensor name(const Tensor& x) { return unary_float(Op::name, &Backend::name, x); }
LOOM_UNARY_FLOAT(exp) LOOM_UNARY_FLOAT(expm1) LOOM_UNARY_FLOAT(log) LOOM_UNARY_FLOAT(log1p)
LOOM_UNARY_FLOAT(sqrt) LOOM_UNARY_FLOAT(rsqrt) LOOM_UNARY_FLOAT(sin) LOOM_UNARY_FLOAT(cos)
LOOM_UNARY_FLOAT(tanh) LOOM_UNARY_FLOAT(sigmoid) LOOM_UNARY_FLOAT(erf)
#undef LOOM_UNARY_FLOAT

// floor/ceil/round of an integer is the integer itself (PyTorch returns a copy).
#define LOOM_UNARY_ROUNDING(name)                                              \
  Tensor name(const Tensor& x) {                                               \
    check_defined(#name, x);                                                   \
    if (!x.is_floating_point()) return x.clone();                              \
    return unary(Op::name, &Backend::name, x, x.dtype());                      \
  }
LOOM_UNARY_ROUNDING(floor) LOOM_UNARY_ROUNDING(ceil) LOOM_UNARY_ROUNDING(round)
#undef LOOM_UNARY_ROUNDING

Tensor neg(const Tensor& x) { return unary_numeric(Op::neg, &Backend::neg, x); }
Tensor abs(const Tensor& x) { return unary_numeric(Op::abs, &Backend::abs, x); }
Tensor sign(const Tensor& x) { return unary_numeric(Op::sign, &Backend::sign, x); }
Tensor logical_not(const Tensor& x) {
  check_defined("logical_not", x);
  return unary(Op::logical_not, &Backend::logical_not, raw::to_dtype(x, DType::Bool), DType::Bool);
}

// ---- clamp ----
Tensor clamp(const Tensor& x, Scalar lo, Scalar hi) {
  check_defined("clamp", x);
  LOOM_CHECK(x.dtype() != DType::Bool, DTypeError, "clamp: expected a numeric tensor, found bool");
  const DType t = promote_types(result_type(x, lo), result_type(x, hi));
  LOOM_CHECK(!(lo.to<double>() > hi.to<double>()), ValueError,
             "clamp: expected min ≤ max, found min={} max={}", lo.to<double>(), hi.to<double>());
  Tensor xc = raw::to_dtype(x, t);
  Tensor out = make_output(x.sizes(), t, x.device(), x);
  if (out.numel() > 0) backend_checked(Op::clamp, x.device(), t).clamp(out, xc, lo, hi);
  return out;
}

// ---- binary ----
Tensor add(const Tensor& a, const Tensor& b) { return arithmetic(Op::add, &Backend::add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return arithmetic(Op::sub, &Backend::sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return arithmetic(Op::mul, &Backend::mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return true_divide(a, b); }
Tensor pow(const Tensor& a, const Tensor& b) { return power(a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return arithmetic(Op::maximum, &Backend::maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return arithmetic(Op::minimum, &Backend::minimum, a, b); }
Tensor logical_and(const Tensor& a, const Tensor& b) { return logical(Op::logical_and, &Backend::logical_and, a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return logical(Op::logical_or, &Backend::logical_or, a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return compare(Op::eq, &Backend::eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(Op::ne, &Backend::ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(Op::lt, &Backend::lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(Op::le, &Backend::le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(Op::gt, &Backend::gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(Op::ge, &Backend::ge, a, b); }

// ---- where / masked_fill ----
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", cond);
  check_defined("where", a);
  check_defined("where", b);
  LOOM_CHECK(cond.dtype() == DType::Bool, DTypeError,
             "where: expected a bool condition, found {}", dtype_name(cond.dtype()));
  detail::check_same_device("where", cond, a);
  detail::check_same_device("where", a, b);
  const DType t = result_type(a, b);
  Shape shape = detail::broadcast_shapes_for(
      "where", cond.sizes(), detail::broadcast_shapes_for("where", a.sizes(), b.sizes()));
  Tensor out = make_output(shape, t, a.device(), a, &b);
  if (out.numel() > 0) {
    backend_checked(Op::where, a.device(), t)
        .where(out, raw::expand(cond, shape), raw::expand(raw::to_dtype(a, t), shape),
               raw::expand(raw::to_dtype(b, t), shape));
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  check_defined("masked_fill", x);
  check_defined("masked_fill", mask);
  LOOM_CHECK(mask.dtype() == DType::Bool, DTypeError,
             "masked_fill: expected a bool mask, found {}", dtype_name(mask.dtype()));
  detail::check_same_device("masked_fill", x, mask);
  Shape shape = detail::broadcast_shapes_for("masked_fill", x.sizes(), mask.sizes());
  LOOM_CHECK(shape == x.sizes(), ShapeError,
             "masked_fill: mask of shape {} must broadcast to the tensor's shape {}",
             mask.sizes().str(), x.sizes().str());
  Tensor out = make_output(shape, x.dtype(), x.device(), x);
  if (out.numel() > 0)
    backend_checked(Op::masked_fill, x.device(), x.dtype()).masked_fill(out, x, raw::expand(mask, shape), value);
  return out;
}

}  // namespace loom::raw
