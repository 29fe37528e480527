// One row per primitive of ops.def: the input domain, the tolerance, the dtypes the fast backend
// must serve and (for elementwise ops) a plain reference. A primitive without a row fails the
// suite ("every primitive has a spec row" in test_conformance.cpp).
#include <cmath>
#include <map>

#include "conformance.hpp"

namespace conformance {
namespace {

const std::vector<DType> kFloats{DType::Float32, DType::Float64};
const std::vector<DType> kNumeric{DType::UInt8, DType::Int64, DType::Float32, DType::Float64};
const std::vector<DType> kAll{DType::Bool, DType::UInt8, DType::Int64, DType::Float32,
                              DType::Float64};
const std::vector<DType> kBool{DType::Bool};

Domain range(double lo, double hi) {
  Domain d;
  d.lo = lo, d.hi = hi;
  d.ilo = std::ceil(lo), d.ihi = std::floor(hi);
  return d;
}
Domain with_quantum(Domain d, double q) { return d.quantum = q, d; }
Domain with_nan(Domain d) { return d.nan = true, d; }
Domain without_zero(Domain d) { return d.nonzero = true, d; }
Domain with_zeros(Domain d, int every) { return d.zero_every = every, d; }

OpSpec unary(Domain a, std::vector<DType> required, double (*f)(double)) {
  OpSpec s;
  s.a = a, s.required = std::move(required), s.unary = f;
  return s;
}
OpSpec binary(Domain a, Domain b, std::vector<DType> required, double (*f)(double, double)) {
  OpSpec s;
  s.a = a, s.b = b, s.required = std::move(required), s.binary = f;
  return s;
}
OpSpec plain(Domain a, std::vector<DType> required, Tolerance f32 = {1e-5, 1e-6},
             Tolerance f64 = {1e-12, 1e-12}) {
  OpSpec s;
  s.a = a, s.required = std::move(required), s.f32 = f32, s.f64 = f64;
  return s;
}

double nan_or(double a, double b, double r) { return std::isnan(a) || std::isnan(b) ? NAN : r; }

const std::map<Op, OpSpec>& table() {
  static const std::map<Op, OpSpec> rows = [] {
    std::map<Op, OpSpec> r = {
        // ---- memory
        {Op::copy, plain(with_zeros(with_quantum(range(-100, 100), 0.25), 7), kAll)},
        {Op::fill, plain(range(0, 1), kAll)},
        {Op::arange, plain(range(0, 1), {DType::Int64, DType::Float32, DType::Float64})},
        // ---- unary, floating
        {Op::exp, unary(range(-10, 10), kFloats, [](double x) { return std::exp(x); })},
        {Op::expm1, unary(range(-5, 5), kFloats, [](double x) { return std::expm1(x); })},
        {Op::log, unary(range(0.01, 10), kFloats, [](double x) { return std::log(x); })},
        {Op::log1p, unary(range(-0.9, 10), kFloats, [](double x) { return std::log1p(x); })},
        {Op::sqrt, unary(range(0, 10), kFloats, [](double x) { return std::sqrt(x); })},
        {Op::rsqrt, unary(range(0.01, 10), kFloats, [](double x) { return 1 / std::sqrt(x); })},
        {Op::sin, unary(range(-10, 10), kFloats, [](double x) { return std::sin(x); })},
        {Op::cos, unary(range(-10, 10), kFloats, [](double x) { return std::cos(x); })},
        {Op::tanh, unary(range(-5, 5), kFloats, [](double x) { return std::tanh(x); })},
        {Op::sigmoid, unary(range(-10, 10), kFloats, [](double x) { return 1 / (1 + std::exp(-x)); })},
        {Op::erf, unary(range(-3, 3), kFloats, [](double x) { return std::erf(x); })},
        {Op::floor, unary(range(-10, 10), kFloats, [](double x) { return std::floor(x); })},
        {Op::ceil, unary(range(-10, 10), kFloats, [](double x) { return std::ceil(x); })},
        // Multiples of 0.5 put exact halves in: round half to even (nearbyint's default mode).
        {Op::round, unary(with_quantum(range(-10, 10), 0.5), kFloats,
                          [](double x) { return std::nearbyint(x); })},
        // ---- unary, any numeric dtype
        {Op::neg, unary(with_quantum(range(-10, 10), 0.5), kNumeric, [](double x) { return -x; })},
        {Op::abs, unary(with_quantum(range(-10, 10), 0.5), kNumeric,
                        [](double x) { return std::abs(x); })},
        {Op::sign, unary(with_zeros(range(-10, 10), 5), kNumeric,
                         [](double x) { return double((x > 0) - (x < 0)); })},
        {Op::logical_not, unary(range(0, 1), kBool, [](double x) { return x == 0 ? 1.0 : 0.0; })},
        // ---- binary
        {Op::add, binary(range(-10, 10), range(-10, 10), kNumeric, [](double a, double b) { return a + b; })},
        {Op::sub, binary(range(-10, 10), range(-10, 10), kNumeric, [](double a, double b) { return a - b; })},
        {Op::mul, binary(range(-10, 10), range(-10, 10), kNumeric, [](double a, double b) { return a * b; })},
        // Integer division truncates; cast_to's truncation of a / b does the same.
        {Op::div, binary(range(-20, 20), without_zero(range(-5, 5)), kNumeric,
                         [](double a, double b) { return a / b; })},
        // Integer exponents stay in [0, 3] (negative ones are the core's ValueError).
        {Op::pow, binary(range(0.5, 4), [] { Domain d = range(-2, 3); d.ilo = 0; return d; }(),
                         kNumeric, [](double a, double b) { return std::pow(a, b); })},
        {Op::maximum, binary(with_nan(range(-10, 10)), range(-10, 10), kNumeric,
                             [](double a, double b) { return nan_or(a, b, std::max(a, b)); })},
        {Op::minimum, binary(range(-10, 10), with_nan(range(-10, 10)), kNumeric,
                             [](double a, double b) { return nan_or(a, b, std::min(a, b)); })},
        {Op::logical_and, binary(range(0, 1), range(0, 1), kBool,
                                 [](double a, double b) { return double(a != 0 && b != 0); })},
        {Op::logical_or, binary(range(0, 1), range(0, 1), kBool,
                                [](double a, double b) { return double(a != 0 || b != 0); })},
        // ---- compare: small integers make ties frequent; NaN compares false (ne: true)
        {Op::eq, binary(with_nan(with_quantum(range(-3, 3), 1)), with_quantum(range(-3, 3), 1), kNumeric,
                        [](double a, double b) { return double(a == b); })},
        {Op::ne, binary(with_nan(with_quantum(range(-3, 3), 1)), with_quantum(range(-3, 3), 1), kNumeric,
                        [](double a, double b) { return double(a != b); })},
        {Op::lt, binary(with_nan(with_quantum(range(-3, 3), 1)), with_quantum(range(-3, 3), 1), kNumeric,
                        [](double a, double b) { return double(a < b); })},
        {Op::le, binary(with_nan(with_quantum(range(-3, 3), 1)), with_quantum(range(-3, 3), 1), kNumeric,
                        [](double a, double b) { return double(a <= b); })},
        {Op::gt, binary(with_nan(with_quantum(range(-3, 3), 1)), with_quantum(range(-3, 3), 1), kNumeric,
                        [](double a, double b) { return double(a > b); })},
        {Op::ge, binary(with_nan(with_quantum(range(-3, 3), 1)), with_quantum(range(-3, 3), 1), kNumeric,
                        [](double a, double b) { return double(a >= b); })},
        // ---- ternary
        {Op::where, plain(range(-10, 10), kAll)},
        {Op::clamp, plain(with_nan(range(-10, 10)), kNumeric)},
        // ---- reduce: positive float inputs (no cancellation), so a relative tolerance is fair to
        // float32 partial sums; integer products stay ±1 to avoid overflow.
        {Op::sum, plain(range(0.5, 1.5), kAll, {2e-4, 1e-5}, {1e-10, 1e-10})},
        {Op::prod, [] {
           Domain d = range(0.95, 1.05);
           d.ilo = -1, d.ihi = 1, d.nonzero = true;
           return plain(d, kNumeric, {1e-3, 1e-6}, {1e-10, 1e-12});
         }()},
        {Op::max, plain(with_nan(with_quantum(range(-5, 5), 1)), kNumeric)},
        {Op::min, plain(with_nan(with_quantum(range(-5, 5), 1)), kNumeric)},
        // ---- matmul: the tolerance is scaled by K in the harness
        {Op::bmm, plain(range(-1, 1), kFloats, {1e-5, 2e-6}, {1e-12, 1e-13})},
        // ---- convolution: |x|, |w| ≤ 1; the harness scales atol by the length of each sum.
        // float32 oneDNN vs the double-accumulating reference.
        {Op::conv2d, plain(range(-1, 1), kFloats, {1e-4, 2e-6}, {1e-11, 1e-13})},
        {Op::conv2d_backward_data, plain(range(-1, 1), kFloats, {1e-4, 2e-6}, {1e-11, 1e-13})},
        {Op::conv2d_backward_weight, plain(range(-1, 1), kFloats, {1e-4, 2e-6}, {1e-11, 1e-13})},
        // ---- pooling: integers make ties frequent (the first maximum wins, in both backends)
        {Op::max_pool2d, plain(with_quantum(range(-3, 3), 1), kFloats)},
        {Op::max_pool2d_backward, plain(with_quantum(range(-3, 3), 1), kFloats)},
        {Op::avg_pool2d, plain(range(-4, 4), kFloats, {1e-5, 1e-6})},
        {Op::avg_pool2d_backward, plain(range(-4, 4), kFloats, {1e-5, 1e-6})},
        // ---- normalization: a mean away from 0; float32 oneDNN vs the double-accumulating reference
        // (the harness scales atol by the length of each sum for the parameter gradients).
        {Op::batch_norm, plain(range(-1, 3), kFloats, {1e-4, 1e-5}, {1e-10, 1e-11})},
        {Op::batch_norm_backward, plain(range(-1, 3), kFloats, {1e-4, 1e-5}, {1e-10, 1e-11})},
        {Op::layer_norm, plain(range(-1, 3), kFloats, {1e-4, 1e-5}, {1e-10, 1e-11})},
        {Op::layer_norm_backward, plain(range(-1, 3), kFloats, {1e-4, 1e-5}, {1e-10, 1e-11})},
        // ---- attention: float32 tiles (OpenBLAS, online softmax) vs the double-accumulating reference
        {Op::attention, plain(range(-1, 1), kFloats, {1e-4, 1e-5}, {1e-11, 1e-12})},
        {Op::attention_backward, plain(range(-1, 1), kFloats, {1e-4, 1e-5}, {1e-11, 1e-12})},
        // ---- recurrent: pre-activations and states in [-2, 2]; float32 math vs the double reference
        {Op::lstm_cell, plain(range(-2, 2), kFloats, {1e-5, 2e-6}, {1e-12, 1e-13})},
        {Op::lstm_cell_backward, plain(range(-2, 2), kFloats, {1e-5, 2e-6}, {1e-12, 1e-13})},
        {Op::gru_cell, plain(range(-2, 2), kFloats, {1e-5, 2e-6}, {1e-12, 1e-13})},
        {Op::gru_cell_backward, plain(range(-2, 2), kFloats, {1e-5, 2e-6}, {1e-12, 1e-13})},
        // ---- index: sums of multiples of 0.5 are exact in any order
        {Op::index_select, plain(range(-10, 10), kAll)},
        {Op::gather, plain(range(-10, 10), kAll)},
        {Op::scatter_add, plain(with_quantum(range(-4, 4), 0.5), kNumeric)},
        {Op::masked_fill, plain(range(-10, 10), kAll)},
        // ---- random: the same Philox functions in both backends (one rounding of slack)
        {Op::uniform, plain(range(0, 1), kFloats, {1e-6, 1e-6}, {1e-14, 1e-14})},
        {Op::normal, plain(range(0, 1), kFloats, {1e-5, 2e-6}, {1e-12, 1e-12})},
        {Op::bernoulli, plain(range(0, 1), kFloats)},
    };
    // Every floating elementwise primitive without a row above: its own element function (ops.def),
    // evaluated in double, is the reference; inputs in [-3, 3] (out of an op's domain, both sides
    // give NaN, which compares equal).
#define LOOM_OP(family, name, params)
#define LOOM_UNARY_FLOAT(name, cost, element) \
    r.emplace(Op::name, unary(range(-3, 3), kFloats, [](double x) -> double { return element; }));
#define LOOM_BINARY_FLOAT(name, cost, element) \
    r.emplace(Op::name, binary(range(-3, 3), range(-3, 3), kFloats,                      \
                               [](double a, double b) -> double { return element; }));
#include "loom/ops.def"
#undef LOOM_OP
    return r;
  }();
  return rows;
}

}  // namespace

const OpSpec* find_spec(Op op) {
  auto it = table().find(op);
  return it == table().end() ? nullptr : &it->second;
}

}  // namespace conformance
