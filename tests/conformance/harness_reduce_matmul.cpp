// Family harnesses for reduce (sum, prod, max, min) and matmul (bmm).
#include <cmath>

#include "conformance.hpp"

namespace conformance {
namespace {

const OpSpec& spec_of(Op op) {
  const OpSpec* spec = find_spec(op);
  REQUIRE_MESSAGE(spec != nullptr, "no spec row for " << loom::op_name(op));
  return *spec;
}

struct ReduceCase {
  Layout layout;
  Shape shape;
  std::vector<i64> dims;  // reduced dims
};

std::vector<ReduceCase> reduce_cases() {
  return {
      {Layout::Contiguous, {3, 5, 7}, {1}},        {Layout::Contiguous, {3, 5, 7}, {0, 2}},
      {Layout::Contiguous, {3, 5, 7}, {0, 1, 2}},  {Layout::Contiguous, {3, 5, 7}, {2}},
      {Layout::Contiguous, {300, 400}, {0}},       {Layout::Contiguous, {300, 400}, {1}},
      {Layout::Contiguous, {300, 400}, {0, 1}},    {Layout::Transposed, {6, 9}, {0}},
      {Layout::Transposed, {400, 300}, {1}},       {Layout::Strided, {5, 7}, {1}},
      {Layout::ChannelsLast, {2, 3, 4, 5}, {1}},   {Layout::ChannelsLast, {2, 3, 4, 5}, {0, 2, 3}},
      {Layout::ChannelsLast, {4, 8, 64, 64}, {1}}, {Layout::Broadcast, {4, 6}, {0}},
      {Layout::Broadcast, {300, 400}, {1}},        {Layout::SizeOne, {1}, {0}},
      {Layout::SizeOne, {1, 1, 1}, {1}},
  };
}

Shape keepdim_shape(const Shape& shape, const std::vector<i64>& dims) {
  Shape out = shape;
  for (i64 d : dims) out[std::size_t(d)] = 1;
  return out;
}

// Index in the keepdim output of element `linear` of x.
i64 reduced_index(i64 linear, const Shape& shape, const Shape& out_shape) {
  auto c = unravel(linear, shape);
  for (std::size_t d = 0; d < c.size(); ++d)
    if (out_shape[d] == 1) c[d] = 0;
  return ravel(c, out_shape);
}

void run_sum_prod(Op op) {
  const OpSpec& spec = spec_of(op);
  const bool is_sum = op == Op::sum;
  for (DType dtype : dtypes_to_test(op, spec)) {
    const DType out_dtype = loom::is_floating(dtype) ? dtype : DType::Int64;
    for (const ReduceCase& c : reduce_cases()) {
      std::string what = describe(op, dtype, c.layout, c.shape) + " over dims";
      for (i64 d : c.dims) what += " " + std::to_string(d);
      const Shape out_shape = keepdim_shape(c.shape, c.dims);
      Tensor x = make_input(c.shape, dtype, c.layout, spec.a, 9);
      Tensor out_fast = loom::empty(out_shape, out_dtype), out_ref = loom::empty(out_shape, out_dtype);
      (fast().*primitive<UnaryFn>(op))(out_fast, x);
      (reference().*primitive<UnaryFn>(op))(out_ref, x);
      const auto ref = host(out_ref);
      check_values(host(out_fast), ref, tolerance(spec, out_dtype), what + ": fast vs reference");
      const auto xs = host(x);
      std::vector<double> expected(ref.size(), is_sum ? 0.0 : 1.0);
      for (std::size_t i = 0; i < xs.size(); ++i) {
        double& acc = expected[std::size_t(reduced_index(i64(i), c.shape, out_shape))];
        acc = is_sum ? acc + xs[i] : acc * xs[i];
      }
      for (auto& e : expected) e = cast_to(out_dtype, e);
      check_values(ref, expected, tolerance(spec, out_dtype), what + ": reference vs loop");
    }
  }
}

void run_max_min(Op op) {
  const OpSpec& spec = spec_of(op);
  const bool is_max = op == Op::max;
  for (DType dtype : dtypes_to_test(op, spec)) {
    for (const ReduceCase& c : reduce_cases()) {
      for (i64 dim = 0; dim < i64(c.shape.size()); ++dim) {
        const std::string what = describe(op, dtype, c.layout, c.shape) + " dim " + std::to_string(dim);
        const Shape out_shape = keepdim_shape(c.shape, {dim});
        Tensor x = make_input(c.shape, dtype, c.layout, spec.a, 10);
        Tensor values_fast = loom::empty(out_shape, dtype), values_ref = loom::empty(out_shape, dtype);
        Tensor indices_fast = loom::empty(out_shape, DType::Int64);
        Tensor indices_ref = loom::empty(out_shape, DType::Int64);
        if (is_max) {
          fast().max(values_fast, indices_fast, x, int(dim));
          reference().max(values_ref, indices_ref, x, int(dim));
        } else {
          fast().min(values_fast, indices_fast, x, int(dim));
          reference().min(values_ref, indices_ref, x, int(dim));
        }
        const auto vref = host(values_ref), iref = host(indices_ref);
        check_values(host(values_fast), vref, {0, 0}, what + ": values, fast vs reference");
        check_values(host(indices_fast), iref, {0, 0}, what + ": indices, fast vs reference");
        // The loop: the first extreme wins, and the first NaN beats everything.
        const auto xs = host(x);
        std::vector<double> best(vref.size()), where(vref.size(), -1);
        for (std::size_t i = 0; i < xs.size(); ++i) {
          const auto o = std::size_t(reduced_index(i64(i), c.shape, out_shape));
          const double k = double(unravel(i64(i), c.shape)[std::size_t(dim)]);
          const bool better = where[o] < 0 || (!std::isnan(best[o]) &&
                                               (std::isnan(xs[i]) || (is_max ? xs[i] > best[o] : xs[i] < best[o])));
          if (better) best[o] = xs[i], where[o] = k;
        }
        check_values(vref, best, {0, 0}, what + ": values, reference vs loop");
        check_values(iref, where, {0, 0}, what + ": indices, reference vs loop");
      }
    }
  }
}

struct BmmCase {
  const char* what;
  i64 B, M, K, N;
  bool transpose_a = false, transpose_b = false, broadcast_a = false, strided_b = false;
};

// a (B, M, K) in the requested layout.
Tensor bmm_operand(i64 B, i64 rows, i64 cols, DType dtype, const Domain& d, std::uint64_t seed,
                   bool transposed, bool broadcast, bool strided) {
  if (transposed) return make_input({B, cols, rows}, dtype, Layout::Contiguous, d, seed).transpose(1, 2);
  if (broadcast) return make_input({B, rows, cols}, dtype, Layout::Broadcast, d, seed, 0);
  if (strided) return make_input({B, rows, cols}, dtype, Layout::Strided, d, seed);
  return make_input({B, rows, cols}, dtype, Layout::Contiguous, d, seed);
}

void run_bmm() {
  const OpSpec& spec = spec_of(Op::bmm);
  const BmmCase cases[] = {
      {"small", 2, 3, 4, 5},
      {"size-1", 1, 1, 1, 1},
      {"transposed a", 2, 3, 4, 5, true},
      {"transposed b", 2, 3, 4, 5, false, true},
      {"transposed a and b", 3, 7, 6, 5, true, true},
      {"broadcast batch of a (stride 0)", 3, 4, 5, 6, false, false, true},
      {"sliced b (step 2)", 2, 4, 5, 6, false, false, false, true},
      {"K = 0 gives zeros", 2, 3, 0, 4},
      {"large", 2, 128, 96, 112},
      {"large, transposed b", 2, 128, 96, 112, false, true},
  };
  for (DType dtype : dtypes_to_test(Op::bmm, spec)) {
    for (const BmmCase& c : cases) {
      const std::string what = std::string("bmm ") + std::string(loom::dtype_name(dtype)) + " " + c.what;
      Tensor a = bmm_operand(c.B, c.M, c.K, dtype, spec.a, 11, c.transpose_a, c.broadcast_a, false);
      Tensor b = bmm_operand(c.B, c.K, c.N, dtype, spec.a, 12, c.transpose_b, false, c.strided_b);
      Tensor out_fast = loom::empty({c.B, c.M, c.N}, dtype), out_ref = loom::empty({c.B, c.M, c.N}, dtype);
      fast().bmm(out_fast, a, b);
      reference().bmm(out_ref, a, b);
      Tolerance tol = tolerance(spec, dtype);
      tol.atol *= double(std::max<i64>(c.K, 1));  // |a|, |b| <= 1: error grows with K
      const auto ref = host(out_ref);
      check_values(host(out_fast), ref, tol, what + ": fast vs reference");
      const auto as = host(a), bs = host(b);
      std::vector<double> expected(ref.size(), 0.0);
      for (i64 z = 0; z < c.B; ++z)
        for (i64 i = 0; i < c.M; ++i)
          for (i64 j = 0; j < c.N; ++j) {
            double acc = 0;
            for (i64 k = 0; k < c.K; ++k)
              acc += as[std::size_t((z * c.M + i) * c.K + k)] * bs[std::size_t((z * c.K + k) * c.N + j)];
            expected[std::size_t((z * c.M + i) * c.N + j)] = acc;
          }
      check_values(ref, expected, tol, what + ": reference vs loop");
    }
  }
}

}  // namespace

void run_reduce(Op op) {
  if (op == Op::sum || op == Op::prod) return run_sum_prod(op);
  if (op == Op::max || op == Op::min) return run_max_min(op);
  FAIL("no conformance harness for reduce op " << loom::op_name(op));
}

void run_matmul(Op op) {
  if (op == Op::bmm) return run_bmm();
  FAIL("no conformance harness for matmul op " << loom::op_name(op));
}

}  // namespace conformance
