// Family harnesses for memory (copy, fill, arange) and random (uniform, normal, bernoulli).
#include <cmath>

#include "conformance.hpp"
#include "loom/philox.hpp"

namespace conformance {
namespace {

const OpSpec& spec_of(Op op) {
  const OpSpec* spec = find_spec(op);
  REQUIRE_MESSAGE(spec != nullptr, "no spec row for " << loom::op_name(op));
  return *spec;
}

std::vector<DType> all_dtypes() {
  std::vector<DType> v;
  for (int i = 0; i < loom::kNumDTypes; ++i) v.push_back(static_cast<DType>(i));
  return v;
}

void run_copy() {
  const OpSpec& spec = spec_of(Op::copy);
  for (DType from : dtypes_to_test(Op::copy, spec)) {
    for (DType to : all_dtypes()) {
      // Negative floats have no uint8 value (undefined in C++ and PyTorch): keep them out.
      Domain domain = spec.a;
      if (to == DType::UInt8 && loom::is_floating(from)) domain.lo = 0;
      for (const Case& c : elementwise_cases()) {
        const std::string what =
            describe(Op::copy, from, c.layout, c.shape) + " to " + std::string(loom::dtype_name(to));
        Tensor x = make_input(c.shape, from, c.layout, domain, 8);
        Tensor out_fast = make_output(c.shape, to, c.layout);
        Tensor out_ref = make_output(c.shape, to, c.layout);
        fast().copy(out_fast, x);
        reference().copy(out_ref, x);
        const auto ref = host(out_ref);
        check_values(host(out_fast), ref, {0, 0}, what + ": fast vs reference");
        std::vector<double> xs = host(x), expected(xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i) expected[i] = cast_to(to, xs[i]);
        check_values(ref, expected, {0, 0}, what + ": reference vs loop");
      }
    }
  }
}

loom::Scalar fill_value(DType dtype) {
  switch (dtype) {
    case DType::Bool: return true;
    case DType::UInt8: return 200;
    case DType::Int64: return -7;
    default: return 2.5;
  }
}

void run_fill() {
  const OpSpec& spec = spec_of(Op::fill);
  for (DType dtype : dtypes_to_test(Op::fill, spec)) {
    const loom::Scalar value = fill_value(dtype);
    const double expected_value = cast_to(dtype, value.to<double>());
    for (const Case& c : elementwise_cases()) {
      if (c.layout == Layout::Broadcast) continue;  // an output is never stride 0
      const std::string what = describe(Op::fill, dtype, c.layout, c.shape);
      for (Backend* be : {&fast(), &reference()}) {
        INFO("backend " << be->name());
        // A strided output is a view of a zeroed buffer: the skipped elements must stay 0.
        Tensor base = loom::zeros({2 * c.shape.numel()}, dtype);
        Tensor out = c.layout == Layout::Strided ? base.slice(0, 0, base.numel(), 2).view(c.shape)
                                                 : make_output(c.shape, dtype, c.layout);
        be->fill(out, value);
        check_values(host(out), std::vector<double>(host(out).size(), expected_value), {0, 0},
                     what + ": filled values");
        if (c.layout == Layout::Strided) {
          auto skipped = host(base.slice(0, 1, base.numel(), 2));
          check_values(skipped, std::vector<double>(skipped.size(), 0.0), {0, 0},
                       what + ": elements between the strided ones");
        }
      }
    }
  }
}

void run_arange() {
  const OpSpec& spec = spec_of(Op::arange);
  for (DType dtype : dtypes_to_test(Op::arange, spec)) {
    const bool floating = loom::is_floating(dtype);
    const loom::Scalar start = floating ? loom::Scalar(-1.5) : loom::Scalar(dtype == DType::UInt8 ? 1 : -7);
    const loom::Scalar step = floating ? loom::Scalar(0.25) : loom::Scalar(dtype == DType::UInt8 ? 2 : 3);
    for (i64 n : {i64(1), i64(17), i64(100000)}) {
      for (bool strided : {false, true}) {
        const std::string what = describe(Op::arange, dtype, strided ? Layout::Strided : Layout::Contiguous,
                                          Shape{n});
        auto make = [&] {
          return strided ? loom::empty({2 * n}, dtype).slice(0, 0, 2 * n, 2) : loom::empty({n}, dtype);
        };
        Tensor out_fast = make(), out_ref = make();
        fast().arange(out_fast, start, step);
        reference().arange(out_ref, start, step);
        const auto ref = host(out_ref);
        check_values(host(out_fast), ref, tolerance(spec, dtype), what + ": fast vs reference");
        std::vector<double> expected(static_cast<std::size_t>(n));
        for (i64 i = 0; i < n; ++i)
          expected[std::size_t(i)] = cast_to(dtype, start.to<double>() + double(i) * step.to<double>());
        check_values(ref, expected, tolerance(spec, dtype), what + ": reference vs loop");
      }
    }
  }
}

// Output layouts for random primitives: the values depend on the logical index only.
std::vector<Case> random_cases() {
  return {{Layout::Contiguous, {37}},          {Layout::Contiguous, {300, 400}},
          {Layout::Transposed, {6, 9}},        {Layout::Transposed, {400, 300}},
          {Layout::ChannelsLast, {2, 3, 4, 5}}, {Layout::Strided, {5, 7}},
          {Layout::SizeOne, {1}}};
}

Tensor random_output(const Case& c, DType dtype) {
  if (c.layout == Layout::Strided) {
    Shape wide = c.shape;
    wide[wide.size() - 1] = 2 * wide.back();
    return loom::empty(wide, dtype).slice(-1, 0, wide.back(), 2);
  }
  return make_output(c.shape, dtype, c.layout);
}

void run_random_op(Op op) {
  const OpSpec& spec = spec_of(op);
  const loom::PhiloxKey key{0x1234567890abcdefull, 777};
  const double low = -2, high = 3, mean = 1.5, stddev = 2, p = 0.3;
  for (DType dtype : dtypes_to_test(op, spec)) {
    for (const Case& c : random_cases()) {
      const std::string what = describe(op, dtype, c.layout, c.shape);
      Tensor out_fast = random_output(c, dtype), out_ref = random_output(c, dtype);
      for (auto [be, out] : {std::pair{&fast(), out_fast}, std::pair{&reference(), out_ref}}) {
        if (op == Op::uniform) be->uniform(out, low, high, key);
        else if (op == Op::normal) be->normal(out, mean, stddev, key);
        else be->bernoulli(out, p, key);
      }
      const auto ref = host(out_ref);
      check_values(host(out_fast), ref, tolerance(spec, dtype), what + ": fast vs reference");
      // Element i (row-major in out's shape) is a function of (seed, offset + i) only.
      std::vector<double> expected(ref.size());
      std::size_t boundary = 0;
      for (std::size_t i = 0; i < ref.size(); ++i) {
        double v;
        if (op == Op::uniform) {
          const double u = dtype == DType::Float32 ? loom::philox_unit<float>(key, i)
                                                   : loom::philox_unit<double>(key, i);
          v = low + (high - low) * u;
        } else if (op == Op::normal) {
          v = mean + stddev * loom::philox_standard_normal(key, i);
        } else {
          // float or double draws differ below 2^-24: accept either side of p there.
          const double u = loom::philox_unit<double>(key, i);
          v = u < p ? 1 : 0;
          if (std::abs(u - p) < 1e-6) v = ref[i], ++boundary;
        }
        expected[i] = cast_to(dtype, v);
      }
      CHECK(boundary < 3);
      check_values(ref, expected, tolerance(spec, dtype), what + ": reference vs Philox loop");
    }
  }
}

}  // namespace

void run_memory(Op op) {
  if (op == Op::copy) return run_copy();
  if (op == Op::fill) return run_fill();
  if (op == Op::arange) return run_arange();
  FAIL("no conformance harness for memory op " << loom::op_name(op));
}

void run_random(Op op) {
  if (op == Op::uniform || op == Op::normal || op == Op::bernoulli) return run_random_op(op);
  FAIL("no conformance harness for random op " << loom::op_name(op));
}

}  // namespace conformance
