// Gradcheck rows of elementwise ops: unary functions on their smooth domains, binary ops with
// broadcasting, scalar forms and non-contiguous operands.
#include "gradcheck_rows_internal.hpp"

namespace loom_autograd_test {

namespace {

using UnaryOp = Tensor (*)(const Tensor&);
using Values = std::function<Tensor(const loom::Shape&)>;  // float64 values, no grad

// Three rows per unary op: a contiguous leaf, a strided leaf, and a transposed view of a leaf.
void add_unary(RowTable& t, const std::string& name, UnaryOp op, Values values) {
  t[name].push_back({"contiguous (2, 3)", [=] { return TensorList{values({2, 3}).requires_grad_()}; },
                     [op](const TensorList& in) { return TensorList{op(in[0])}; }});
  t[name].push_back({"strided leaf (2, 3) with stride 2", [=] { return TensorList{strided_leaf(values({2, 6}))}; },
                     [op](const TensorList& in) { return TensorList{op(in[0])}; }});
  t[name].push_back({"transposed view of a (3, 2) leaf", [=] { return TensorList{values({3, 2}).requires_grad_()}; },
                     [op](const TensorList& in) { return TensorList{op(in[0].t())}; }});
}

Tensor normal(const loom::Shape& s) { return loom::randn(s, f64); }
Values uniform(double lo, double hi) {
  return [=](const loom::Shape& s) { return loom::rand(s, f64) * (hi - lo) + lo; };
}

using BinaryOp = Tensor (*)(const Tensor&, const Tensor&);
using ScalarRightOp = Tensor (*)(const Tensor&, loom::Scalar);
using ScalarLeftOp = Tensor (*)(loom::Scalar, const Tensor&);

// Rows of a binary op: broadcasting (3,1,4)·(2,4), a strided leaf with a transposed view, only
// the second operand requiring grad, and both scalar forms. `a`, `b` give each operand's values.
void add_binary(RowTable& t, const std::string& name, BinaryOp op, ScalarRightOp op_rs, ScalarLeftOp op_ls,
                Values a, Values b, loom::Scalar scalar) {
  t[name].push_back({"broadcast (3, 1, 4) with (2, 4)",
                     [=] { return TensorList{a({3, 1, 4}).requires_grad_(), b({2, 4}).requires_grad_()}; },
                     [op](const TensorList& in) { return TensorList{op(in[0], in[1])}; }});
  t[name].push_back({"strided leaf with a transposed view",
                     [=] { return TensorList{strided_leaf(a({2, 6})), b({3, 2}).requires_grad_()}; },
                     [op](const TensorList& in) { return TensorList{op(in[0], in[1].t())}; }});
  t[name].push_back({"first operand without grad, broadcast (2, 3) with (3)",
                     [=] { return TensorList{b({3}).requires_grad_(), a({2, 3})}; },
                     [op](const TensorList& in) { return TensorList{op(in[1], in[0])}; }});
  t[name].push_back({"tensor op scalar", [=] { return TensorList{a({2, 3}).requires_grad_()}; },
                     [op_rs, scalar](const TensorList& in) { return TensorList{op_rs(in[0], scalar)}; }});
  t[name].push_back({"scalar op tensor", [=] { return TensorList{b({2, 3}).requires_grad_()}; },
                     [op_ls, scalar](const TensorList& in) { return TensorList{op_ls(scalar, in[0])}; }});
}

// (2, 4) and (3, 4) boolean patterns with both values in every row and column.
Tensor cond_2x4() { return loom::from_vector<bool>({true, false, false, true, false, true, true, false}, {2, 4}); }

}  // namespace

void add_elementwise_rows(RowTable& t) {
  add_unary(t, "exp", loom::exp, normal);
  add_unary(t, "expm1", loom::expm1, normal);
  add_unary(t, "log", loom::log, uniform(0.5, 2.0));
  add_unary(t, "log1p", loom::log1p, uniform(-0.5, 2.0));
  add_unary(t, "sqrt", loom::sqrt, uniform(0.5, 2.0));
  add_unary(t, "rsqrt", loom::rsqrt, uniform(0.5, 2.0));
  add_unary(t, "sin", loom::sin, normal);
  add_unary(t, "cos", loom::cos, normal);
  add_unary(t, "tanh", loom::tanh, normal);
  add_unary(t, "sigmoid", loom::sigmoid, normal);
  add_unary(t, "erf", loom::erf, normal);
  // Both sides of the pole at 0 (the gradient below 1/2 takes the reflection formula), away from it.
  add_unary(t, "lgamma", loom::lgamma, uniform(0.3, 3.0));
  add_unary(t, "lgamma", loom::lgamma, uniform(-2.8, -2.2));
  add_unary(t, "floor", loom::floor, kink_free);
  add_unary(t, "ceil", loom::ceil, kink_free);
  add_unary(t, "round", loom::round, kink_free);
  add_unary(t, "sign", loom::sign, kink_free);
  add_unary(t, "neg", loom::neg, normal);
  add_unary(t, "abs", loom::abs, kink_free);
  add_unary(t, "clamp", [](const Tensor& x) { return loom::clamp(x, -0.5, 0.5); }, kink_free);
  add_unary(t, "clamp_min", [](const Tensor& x) { return loom::clamp_min(x, -0.5); }, kink_free);
  add_unary(t, "clamp_max", [](const Tensor& x) { return loom::clamp_max(x, 0.5); }, kink_free);
  t["clamp"].push_back({"every element inside [lo, hi]", [] { return TensorList{uniform_leaf({2, 3}, -0.9, 0.9)}; },
                        [](const TensorList& in) { return TensorList{loom::clamp(in[0], -1.0, 1.0)}; }});

  add_binary(t, "add", loom::add, loom::add, loom::add, normal, normal, 1.5);
  add_binary(t, "sub", loom::sub, loom::sub, loom::sub, normal, normal, 1.5);
  add_binary(t, "mul", loom::mul, loom::mul, loom::mul, normal, normal, 1.5);
  // Divisors in [0.5, 2): both operands, since the scalar form divides by the tensor.
  add_binary(t, "div", loom::div, loom::div, loom::div, uniform(0.5, 2.0), uniform(0.5, 2.0), 1.5);
  // b > 0 keeps the points away from atan2's branch cut along b < 0, a = 0.
  add_binary(t, "atan2", loom::atan2, loom::atan2, loom::atan2, normal, uniform(0.5, 2.0), 1.5);
  // Bases positive (a^b·log a needs a > 0); exponents of either sign.
  add_binary(t, "pow", loom::pow, loom::pow, loom::pow, uniform(0.5, 2.0), uniform(-1.5, 1.5), 2.5);
  t["pow"].push_back({"negative base, integral scalar exponent", [] { return TensorList{leaf({-1.5, -0.7, 0.9, -2.0}, {4})}; },
                      [](const TensorList& in) { return TensorList{loom::pow(in[0], 3)}; }});
  // kKinkFree values against normal ones: a tie within 1e-6 has probability ~1e-6 and the
  // seed is fixed; the scalar 0.3 is 0.15 from the nearest kKinkFree value.
  add_binary(t, "maximum", loom::maximum, loom::maximum, loom::maximum, kink_free, normal, 0.3);
  add_binary(t, "minimum", loom::minimum, loom::minimum, loom::minimum, kink_free, normal, 0.3);

  t["where"].push_back({"cond (2, 4), a (3, 1, 4), b (2, 4)",
                        [] { return TensorList{randn_leaf({3, 1, 4}), randn_leaf({2, 4})}; },
                        [](const TensorList& in) { return TensorList{loom::where(cond_2x4(), in[0], in[1])}; }});
  t["where"].push_back({"strided a, transposed b, scalar forms",
                        [] { return TensorList{strided_leaf(loom::randn({2, 8}, f64)), randn_leaf({4, 2})}; },
                        [](const TensorList& in) {
                          return TensorList{loom::where(cond_2x4(), in[0], in[1].t()),
                                            loom::where(cond_2x4(), in[0], 0.25),
                                            loom::where(cond_2x4(), -0.5, in[1].t())};
                        }});
  t["masked_fill"].push_back({"mask (4) broadcast over x (3, 4)", [] { return TensorList{randn_leaf({3, 4})}; },
                              [](const TensorList& in) {
                                Tensor mask = loom::from_vector<bool>({false, true, true, false}, {4});
                                return TensorList{loom::masked_fill(in[0], mask, 2.0)};
                              }});
  t["masked_fill"].push_back({"transposed view, mask (2, 4)", [] { return TensorList{randn_leaf({4, 2})}; },
                              [](const TensorList& in) { return TensorList{loom::masked_fill(in[0].t(), cond_2x4(), -1.0)}; }});
}

}  // namespace loom_autograd_test
