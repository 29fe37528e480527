// Elementwise ops (unary, binary, compare, where, clamp, masked_fill), the family in one place:
//  - forward, in loom::raw (never records): promotion, broadcasting and the output layout are
//    decided here; the backend sees operands of out's shape (stride-0 where broadcast) and of the
//    compute dtype;
//  - the public ops (loom::exp, loom::add, ...) with their gradient rules: g is the gradient of the
//    output, and every rule returns one gradient per input (undefined where none is needed).
#include <limits>

#include "autograd/rules.hpp"

// ==== forward: validation and the backend call ====================================================
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

// Binary float functions (and true division): integral and bool inputs are computed in float32.
Tensor binary_float(Op op, BinaryFn fn, const Tensor& a, const Tensor& b) {
  DType t = result_type(a, b);
  if (!is_floating(t)) t = kDefaultFloat;
  return binary(op, fn, a, b, t, t);
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

// ---- the floating primitives of ops.def (LOOM_UNARY_FLOAT and LOOM_BINARY_FLOAT rows) ----
#define LOOM_OP(family, name, params)
#define LOOM_UNARY_FLOAT(name, cost, element) \
  Tensor name(const Tensor& x) { return unary_float(Op::name, &Backend::name, x); }
#define LOOM_BINARY_FLOAT(name, cost, element) \
  Tensor name(const Tensor& a, const Tensor& b) { return binary_float(Op::name, &Backend::name, a, b); }
#include "loom/ops.def"
#undef LOOM_OP

// ---- unary ----

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
Tensor div(const Tensor& a, const Tensor& b) { return binary_float(Op::div, &Backend::div, a, b); }
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

// ==== public ops and their gradient rules =========================================================
namespace loom {

namespace {

// A unary op whose derivative is a function of its input x and/or output y.
template <typename Derivative>
Tensor unary_rule(GradOp op, Tensor (*forward)(const Tensor&), const Tensor& x, Derivative&& dydx,
                  bool save_input, bool save_output) {
  ProfileScope profile(autograd::grad_op_name(op));
  if (!autograd::needs_grad(x)) return forward(x);
  Tensor y;
  {
    NoGradGuard no_grad;
    y = forward(x);
  }
  SavedTensor sx(save_input ? x : Tensor(), false);
  // An output is saved after it is recorded, so that with create_graph it keeps its grad_fn.
  auto sy = detail::make_pooled<SavedTensor>();
  const std::string_view name = autograd::grad_op_name(op);
  const DType in_dtype = x.dtype();
  auto backward = [=](const TensorList& g) -> TensorList {
    Tensor d = dydx(g[0], sx.defined() ? sx.unpack(name) : Tensor(), sy->defined() ? sy->unpack(name) : Tensor());
    return {d.dtype() == in_dtype ? d : d.to(in_dtype)};
  };
  autograd::record_node(detail::make_pooled<autograd::ClosureNode<decltype(backward)>>(name, std::move(backward)), {x}, y);
  if (save_output) *sy = SavedTensor(y, true);
  return y;
}

Tensor zero_grad_rule(GradOp op, Tensor (*forward)(const Tensor&), const Tensor& x) {
  return unary_rule(op, forward, x, [](const Tensor& g, const Tensor&, const Tensor&) { return zeros_like(g); },
                    false, false);
}

}  // namespace

// ---- unary ----
Tensor exp(const Tensor& x) {
  return unary_rule(GradOp::exp, raw::exp, x, [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y; },
                    false, true);
}
Tensor expm1(const Tensor& x) {
  return unary_rule(GradOp::expm1, raw::expm1, x,
                    [](const Tensor& g, const Tensor&, const Tensor& y) { return g * (y + 1); }, false, true);
}
Tensor log(const Tensor& x) {
  return unary_rule(GradOp::log, raw::log, x, [](const Tensor& g, const Tensor& x, const Tensor&) { return g / x; },
                    true, false);
}
Tensor log1p(const Tensor& x) {
  return unary_rule(GradOp::log1p, raw::log1p, x,
                    [](const Tensor& g, const Tensor& x, const Tensor&) { return g / (x + 1); }, true, false);
}
Tensor sqrt(const Tensor& x) {
  return unary_rule(GradOp::sqrt, raw::sqrt, x,
                    [](const Tensor& g, const Tensor&, const Tensor& y) { return g / (y * 2); }, false, true);
}
Tensor rsqrt(const Tensor& x) {
  // d/dx x^(-1/2) = -1/2 x^(-3/2) = -1/2 y³
  return unary_rule(GradOp::rsqrt, raw::rsqrt, x,
                    [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y * y * y * -0.5; }, false, true);
}
Tensor sin(const Tensor& x) {
  return unary_rule(GradOp::sin, raw::sin, x,
                    [](const Tensor& g, const Tensor& x, const Tensor&) { return g * cos(x); }, true, false);
}
Tensor cos(const Tensor& x) {
  return unary_rule(GradOp::cos, raw::cos, x,
                    [](const Tensor& g, const Tensor& x, const Tensor&) { return -(g * sin(x)); }, true, false);
}
Tensor tanh(const Tensor& x) {
  return unary_rule(GradOp::tanh, raw::tanh, x,
                    [](const Tensor& g, const Tensor&, const Tensor& y) { return g * (1 - y * y); }, false, true);
}
Tensor sigmoid(const Tensor& x) {
  return unary_rule(GradOp::sigmoid, raw::sigmoid, x,
                    [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y * (1 - y); }, false, true);
}
Tensor erf(const Tensor& x) {
  return unary_rule(GradOp::erf, raw::erf, x, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return g * exp(-(x * x)) * (2.0 / std::sqrt(std::numbers::pi));
  }, true, false);
}
namespace {
// ψ(x) = d/dx ln Γ(x), composed of differentiable ops so that lgamma's gradient differentiates
// again (create_graph): for x ≥ 1/2, ψ(x) = ψ(x + 6) − Σ_{k<6} 1/(x + k) and the asymptotic series
// ψ(y) ≈ ln y − 1/(2y) − Σ_k B_2k/(2k·y^2k) at y = x + 6 (the first omitted term is below 1e-11);
// below 1/2 the reflection ψ(x) = ψ(1 − x) − π·cot(πx). Each branch only sees inputs it is defined
// for, so the branch `where` drops has a finite gradient.
Tensor digamma(const Tensor& x) {
  const Tensor reflect = x < 0.5;
  const Tensor z = where(reflect, 1 - x, x);  // ≥ 1/2
  Tensor shifts = zeros_like(z);
  for (int k = 0; k < 6; ++k) shifts = shifts + 1 / (z + k);
  const Tensor y = z + 6, inv2 = 1 / (y * y);
  // B_2k/(2k) for k = 1..6: 1/12, −1/120, 1/252, −1/240, 1/132, −691/32760 (Horner in 1/y²)
  const Tensor series =
      inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760))))));
  const Tensor psi = log(y) - 0.5 / y - series - shifts;
  const Tensor xs = where(reflect, x, 0.25);  // πx away from the poles of cot where not reflected
  const double pi = std::numbers::pi;
  return where(reflect, psi - pi * cos(xs * pi) / sin(xs * pi), psi);
}
}  // namespace
Tensor lgamma(const Tensor& x) {
  return unary_rule(GradOp::lgamma, raw::lgamma, x,
                    [](const Tensor& g, const Tensor& x, const Tensor&) { return g * digamma(x); }, true, false);
}
Tensor floor(const Tensor& x) { return zero_grad_rule(GradOp::floor, raw::floor, x); }
Tensor ceil(const Tensor& x) { return zero_grad_rule(GradOp::ceil, raw::ceil, x); }
Tensor round(const Tensor& x) { return zero_grad_rule(GradOp::round, raw::round, x); }
Tensor sign(const Tensor& x) { return zero_grad_rule(GradOp::sign, raw::sign, x); }
Tensor neg(const Tensor& x) {
  return unary_rule(GradOp::neg, raw::neg, x, [](const Tensor& g, const Tensor&, const Tensor&) { return -g; },
                    false, false);
}
Tensor abs(const Tensor& x) {
  return unary_rule(GradOp::abs, raw::abs, x,
                    [](const Tensor& g, const Tensor& x, const Tensor&) { return g * sign(x); }, true, false);
}
Tensor logical_not(const Tensor& x) { return raw::logical_not(x); }

Tensor clamp(const Tensor& x, Scalar lo, Scalar hi) {
  SavedTensor sx(x, false);
  return differentiable(GradOp::clamp, {x}, [&] { return raw::clamp(x, lo, hi); },
                        [sx, lo, hi, in = InputGeometry(x)](const TensorList& g) -> TensorList {
                          // The gradient passes where lo ≤ x ≤ hi (PyTorch's convention at the bounds).
                          Tensor x = sx.unpack("clamp");
                          return {in.reduce(where((x >= lo) & (x <= hi), g[0], 0))};
                        });
}
Tensor clamp_min(const Tensor& x, Scalar lo) {
  return clamp(x, lo, is_floating(x.dtype()) ? Scalar(INFINITY) : Scalar(std::numeric_limits<std::int64_t>::max()));
}
Tensor clamp_max(const Tensor& x, Scalar hi) {
  return clamp(x, is_floating(x.dtype()) ? Scalar(-INFINITY) : Scalar(std::numeric_limits<std::int64_t>::min()), hi);
}

// ---- binary ----
// Each returns early without grad: its rule's captures are not built only to be dropped.
Tensor add(const Tensor& a, const Tensor& b) {
  if (!autograd::needs_grad(a, b)) return autograd::forward_only(GradOp::add, [&] { return raw::add(a, b); });
  return differentiable(GradOp::add, {a, b}, [&] { return raw::add(a, b); },
                        [ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          return {ia.reduce(g[0]), ib.reduce(g[0])};
                        });
}
Tensor sub(const Tensor& a, const Tensor& b) {
  if (!autograd::needs_grad(a, b)) return autograd::forward_only(GradOp::sub, [&] { return raw::sub(a, b); });
  return differentiable(GradOp::sub, {a, b}, [&] { return raw::sub(a, b); },
                        [ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          return {ia.reduce(g[0]), ib.needs_grad ? ib.reduce(-g[0]) : Tensor()};
                        });
}
Tensor mul(const Tensor& a, const Tensor& b) {
  if (!autograd::needs_grad(a, b)) return autograd::forward_only(GradOp::mul, [&] { return raw::mul(a, b); });
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  SavedTensor sa(need_b ? a : Tensor(), false), sb(need_a ? b : Tensor(), false);
  return differentiable(GradOp::mul, {a, b}, [&] { return raw::mul(a, b); },
                        [sa, sb, ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          Tensor da = ia.needs_grad ? ia.reduce(g[0] * sb.unpack("mul")) : Tensor();
                          Tensor db = ib.needs_grad ? ib.reduce(g[0] * sa.unpack("mul")) : Tensor();
                          return {da, db};
                        });
}
Tensor div(const Tensor& a, const Tensor& b) {
  if (!autograd::needs_grad(a, b)) return autograd::forward_only(GradOp::div, [&] { return raw::div(a, b); });
  SavedTensor sa(b.requires_grad() ? a : Tensor(), false), sb(b, false);
  return differentiable(GradOp::div, {a, b}, [&] { return raw::div(a, b); },
                        [sa, sb, ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          Tensor b = sb.unpack("div");
                          Tensor da = ia.needs_grad ? ia.reduce(g[0] / b) : Tensor();
                          Tensor db = ib.needs_grad ? ib.reduce(-(g[0] * sa.unpack("div")) / (b * b)) : Tensor();
                          return {da, db};
                        });
}
Tensor pow(const Tensor& a, const Tensor& b) {
  SavedTensor sa(a, false), sb(b, false);
  return differentiable(GradOp::pow, {a, b}, [&] { return raw::pow(a, b); },
                        [sa, sb, ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          Tensor a = sa.unpack("pow"), b = sb.unpack("pow");
                          // d/da a^b = b·a^(b−1), taken as 0 where b = 0 (so 0^0 has no NaN gradient).
                          Tensor da = ia.needs_grad ? ia.reduce(where(b == 0, 0.0, g[0] * b * pow(a, b - 1))) : Tensor();
                          // d/db a^b = a^b·log a, taken as 0 where a = 0 and b ≥ 0 (PyTorch).
                          Tensor db = ib.needs_grad
                                          ? ib.reduce(where((a == 0) & (b >= 0), 0.0, g[0] * pow(a, b) * log(a)))
                                          : Tensor();
                          return {da, db};
                        });
}

// d/da atan2(a, b) = b/(a² + b²), d/db = −a/(a² + b²).
Tensor atan2(const Tensor& a, const Tensor& b) {
  SavedTensor sa(a, false), sb(b, false);
  return differentiable(GradOp::atan2, {a, b}, [&] { return raw::atan2(a, b); },
                        [sa, sb, ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          Tensor a = sa.unpack("atan2"), b = sb.unpack("atan2");
                          Tensor scale = g[0] / (a * a + b * b);
                          return {ia.needs_grad ? ia.reduce(scale * b) : Tensor(),
                                  ib.needs_grad ? ib.reduce(-(scale * a)) : Tensor()};
                        });
}

namespace {
// maximum/minimum: the gradient goes to the chosen operand; ties split it evenly (PyTorch).
Tensor extremum(GradOp op, Tensor (*forward)(const Tensor&, const Tensor&), const Tensor& a, const Tensor& b,
                bool is_max) {
  SavedTensor sa(a, false), sb(b, false);
  const std::string_view name = autograd::grad_op_name(op);
  return differentiable(op, {a, b}, [&] { return forward(a, b); },
                        [=, ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          Tensor a = sa.unpack(name), b = sb.unpack(name);
                          Tensor shared = where(a == b, g[0] / 2, g[0]);
                          Tensor a_wins = is_max ? a > b : a < b;
                          Tensor b_wins = is_max ? b > a : b < a;
                          return {ia.reduce(where(b_wins, 0.0, shared)), ib.reduce(where(a_wins, 0.0, shared))};
                        });
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(GradOp::maximum, raw::maximum, a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(GradOp::minimum, raw::minimum, a, b, false); }

// Not differentiable (bool results).
Tensor logical_and(const Tensor& a, const Tensor& b) { return raw::logical_and(a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return raw::logical_or(a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return raw::eq(a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return raw::ne(a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return raw::lt(a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return raw::le(a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return raw::gt(a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return raw::ge(a, b); }

// Scalars become 0-d tensors, so every scalar form shares the tensor form's rule.
#define LOOM_SCALAR_FORMS(name)                                                         \
  Tensor name(const Tensor& a, Scalar b) { return name(a, raw::wrap_scalar(b, a)); }   \
  Tensor name(Scalar a, const Tensor& b) { return name(raw::wrap_scalar(a, b), b); }
LOOM_SCALAR_FORMS(add) LOOM_SCALAR_FORMS(sub) LOOM_SCALAR_FORMS(mul) LOOM_SCALAR_FORMS(div)
LOOM_SCALAR_FORMS(maximum) LOOM_SCALAR_FORMS(minimum) LOOM_SCALAR_FORMS(logical_and)
LOOM_SCALAR_FORMS(logical_or) LOOM_SCALAR_FORMS(eq) LOOM_SCALAR_FORMS(ne) LOOM_SCALAR_FORMS(lt)
LOOM_SCALAR_FORMS(le) LOOM_SCALAR_FORMS(gt) LOOM_SCALAR_FORMS(ge)
#define LOOM_OP(family, name, params)
#define LOOM_BINARY_FLOAT(name, cost, element) LOOM_SCALAR_FORMS(name)
#include "loom/ops.def"
#undef LOOM_OP
#undef LOOM_SCALAR_FORMS

Tensor pow(const Tensor& a, Scalar b) {
  LOOM_CHECK(a.defined(), ValueError, "pow: the input tensor is undefined");
  LOOM_CHECK(!(is_integral(result_type(a, b), true) && !b.is_floating() && b.to<std::int64_t>() < 0),
             ValueError, "pow: integers to negative integer powers are not allowed (exponent {}); "
             "use a floating base", b.to<std::int64_t>());
  return pow(a, raw::wrap_scalar(b, a));
}
Tensor pow(Scalar a, const Tensor& b) { return pow(raw::wrap_scalar(a, b), b); }

// ---- where / masked_fill ----
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  SavedTensor sc(cond, false);
  return differentiable(GradOp::where, {a, b}, [&] { return raw::where(cond, a, b); },
                        [sc, ia = InputGeometry(a), ib = InputGeometry(b)](const TensorList& g) -> TensorList {
                          Tensor c = sc.unpack("where");
                          return {ia.needs_grad ? ia.reduce(where(c, g[0], 0.0)) : Tensor(),
                                  ib.needs_grad ? ib.reduce(where(c, 0.0, g[0])) : Tensor()};
                        });
}
Tensor where(const Tensor& cond, const Tensor& a, Scalar b) { return where(cond, a, raw::wrap_scalar(b, a)); }
Tensor where(const Tensor& cond, Scalar a, const Tensor& b) { return where(cond, raw::wrap_scalar(a, b), b); }

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  SavedTensor sm(mask, false);
  return differentiable(GradOp::masked_fill, {x}, [&] { return raw::masked_fill(x, mask, value); },
                        [sm, in = InputGeometry(x)](const TensorList& g) -> TensorList {
                          return {in.reduce(where(sm.unpack("masked_fill"), 0.0, g[0]))};
                        });
}

}  // namespace loom
