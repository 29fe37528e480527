// Family harnesses for unary, binary, compare and ternary primitives: every supported dtype,
// every layout of elementwise_cases(); fast vs reference, and reference vs a plain loop.
#include <cmath>
#include <limits>

#include "conformance.hpp"

namespace conformance {
namespace {

const OpSpec& spec_of(Op op) {
  const OpSpec* spec = find_spec(op);
  REQUIRE_MESSAGE(spec != nullptr, "no spec row for " << loom::op_name(op));
  return *spec;
}

// Runs `call` on both backends with fresh outputs and compares them; returns the reference's.
template <typename Call>
std::vector<double> run_both(const Shape& shape, DType out_dtype, Layout layout, Tolerance tol,
                             const std::string& what, Call call) {
  Tensor out_fast = make_output(shape, out_dtype, layout);
  Tensor out_ref = make_output(shape, out_dtype, layout);
  call(fast(), out_fast);
  call(reference(), out_ref);
  std::vector<double> ref = host(out_ref);
  check_values(host(out_fast), ref, tol, what + ": fast vs reference");
  return ref;
}

}  // namespace

void run_unary(Op op) {
  const OpSpec& spec = spec_of(op);
  REQUIRE(static_cast<bool>(spec.unary));
  const auto fn = primitive<UnaryFn>(op);
  REQUIRE_MESSAGE(static_cast<bool>(fn), loom::op_name(op) << " does not have the unary signature");
  for (DType dtype : dtypes_to_test(op, spec)) {
    for (const Case& c : elementwise_cases()) {
      const std::string what = describe(op, dtype, c.layout, c.shape);
      Tensor x = make_input(c.shape, dtype, c.layout, spec.a, 1);
      auto ref = run_both(c.shape, dtype, c.layout, tolerance(spec, dtype), what,
                          [&](Backend& b, const Tensor& out) { (b.*fn)(out, x); });
      std::vector<double> xs = host(x), expected(xs.size());
      for (std::size_t i = 0; i < xs.size(); ++i) expected[i] = cast_to(dtype, spec.unary(xs[i]));
      check_values(ref, expected, tolerance(spec, dtype), what + ": reference vs loop");
    }
  }
}

namespace {
void run_two_inputs(Op op, bool compare) {
  const OpSpec& spec = spec_of(op);
  REQUIRE(static_cast<bool>(spec.binary));
  const auto fn = primitive<BinaryFn>(op);
  REQUIRE_MESSAGE(static_cast<bool>(fn), loom::op_name(op) << " does not have the binary signature");
  for (DType dtype : dtypes_to_test(op, spec)) {
    const DType out_dtype = compare ? DType::Bool : dtype;
    for (const Case& c : elementwise_cases()) {
      const std::string what = describe(op, dtype, c.layout, c.shape);
      // Broadcast: a is stride-0 in its first dim, b in its last.
      Tensor a = make_input(c.shape, dtype, c.layout, spec.a, 2, 0);
      Tensor b = make_input(c.shape, dtype, c.layout, spec.b, 3, 1);
      auto ref = run_both(c.shape, out_dtype, c.layout, tolerance(spec, out_dtype), what,
                          [&](Backend& be, const Tensor& out) { (be.*fn)(out, a, b); });
      std::vector<double> as = host(a), bs = host(b), expected(as.size());
      for (std::size_t i = 0; i < as.size(); ++i)
        expected[i] = cast_to(out_dtype, spec.binary(as[i], bs[i]));
      check_values(ref, expected, tolerance(spec, out_dtype), what + ": reference vs loop");
    }
  }
}
}  // namespace

void run_binary(Op op) { run_two_inputs(op, false); }
void run_compare(Op op) { run_two_inputs(op, true); }

namespace {
void run_where() {
  const OpSpec& spec = spec_of(Op::where);
  for (DType dtype : dtypes_to_test(Op::where, spec)) {
    for (const Case& c : elementwise_cases()) {
      const std::string what = describe(Op::where, dtype, c.layout, c.shape);
      Tensor cond = make_input(c.shape, DType::Bool, c.layout, spec.a, 4, 0);
      Tensor a = make_input(c.shape, dtype, c.layout, spec.a, 5, 1);
      Tensor b = make_input(c.shape, dtype, c.layout == Layout::Broadcast ? Layout::Contiguous : c.layout,
                            spec.a, 6);
      auto ref = run_both(c.shape, dtype, c.layout, tolerance(spec, dtype), what,
                          [&](Backend& be, const Tensor& out) { be.where(out, cond, a, b); });
      std::vector<double> cs = host(cond), as = host(a), bs = host(b), expected(cs.size());
      for (std::size_t i = 0; i < cs.size(); ++i) expected[i] = cs[i] != 0 ? as[i] : bs[i];
      check_values(ref, expected, {0, 0}, what + ": reference vs loop");
    }
  }
}

struct Bounds {
  loom::Scalar lo, hi;
  double lo_value, hi_value;
};

// Both bounds, then only an upper bound (the lower arrives as -inf or the type's minimum).
std::vector<Bounds> clamp_bounds(DType dtype) {
  if (loom::is_floating(dtype)) {
    const double inf = std::numeric_limits<double>::infinity();
    return {{-3.5, 4.25, -3.5, 4.25}, {-inf, 4.25, -inf, 4.25}, {-2.0, inf, -2.0, inf}};
  }
  if (dtype == DType::UInt8) return {{2, 7, 2, 7}, {0, 5, 0, 5}, {3, 255, 3, 255}};
  const i64 lowest = std::numeric_limits<i64>::min(), highest = std::numeric_limits<i64>::max();
  return {{-3, 4, -3, 4}, {loom::Scalar(lowest), 4, double(lowest), 4},
          {-2, loom::Scalar(highest), -2, double(highest)}};
}

void run_clamp() {
  const OpSpec& spec = spec_of(Op::clamp);
  for (DType dtype : dtypes_to_test(Op::clamp, spec)) {
    for (const Bounds& bounds : clamp_bounds(dtype)) {
      for (const Case& c : elementwise_cases()) {
        const std::string what = describe(Op::clamp, dtype, c.layout, c.shape) + " bounds [" +
                                 std::to_string(bounds.lo_value) + ", " +
                                 std::to_string(bounds.hi_value) + "]";
        Tensor x = make_input(c.shape, dtype, c.layout, spec.a, 7);
        auto ref = run_both(c.shape, dtype, c.layout, tolerance(spec, dtype), what,
                            [&](Backend& be, const Tensor& out) { be.clamp(out, x, bounds.lo, bounds.hi); });
        std::vector<double> xs = host(x), expected(xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i)
          expected[i] = std::isnan(xs[i]) ? xs[i]
                                          : std::min(std::max(xs[i], bounds.lo_value), bounds.hi_value);
        check_values(ref, expected, {0, 0}, what + ": reference vs loop");
      }
    }
  }
}
}  // namespace

void run_ternary(Op op) {
  if (op == Op::where) return run_where();
  if (op == Op::clamp) return run_clamp();
  FAIL("no conformance harness for ternary op " << loom::op_name(op));
}

}  // namespace conformance
